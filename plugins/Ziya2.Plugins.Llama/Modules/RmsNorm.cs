using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Llama.Modules;

/// <summary>RMSNorm: <c>x / sqrt(mean(x²) + eps) · w</c>; in float32 when asked (Ziya2 §3.5), cast back to the input dtype.</summary>
sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly double _eps;
    readonly bool _fp32;

    public RmsNorm(int dim, double eps, bool fp32) : base(nameof(RmsNorm))
    {
        weight = nn.Parameter(ones(dim));
        _eps = eps;
        _fp32 = fp32;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = _fp32 ? x.to_type(ScalarType.Float32) : x;
        var normed = h * rsqrt(h.pow(2).mean([-1L], keepdim: true) + _eps);
        return (normed * weight.to_type(h.dtype)).to_type(x.dtype).MoveToOuterDisposeScope();
    }
}
