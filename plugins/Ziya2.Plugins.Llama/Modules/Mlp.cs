using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Ziya2.Plugins.Llama.Modules;

/// <summary>SwiGLU feed-forward: <c>down(silu(gate(x)) · up(x))</c>.</summary>
sealed class Mlp : nn.Module<Tensor, Tensor>
{
    readonly ComputeLinear gate_proj, up_proj, down_proj;

    public Mlp(LlamaConfig c, ScalarType? compute) : base(nameof(Mlp))
    {
        gate_proj = new ComputeLinear(c.HiddenSize, c.IntermediateSize, compute);
        up_proj = new ComputeLinear(c.HiddenSize, c.IntermediateSize, compute);
        down_proj = new ComputeLinear(c.IntermediateSize, c.HiddenSize, compute);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return down_proj.forward(F.silu(gate_proj.forward(x)) * up_proj.forward(x)).MoveToOuterDisposeScope();
    }
}
