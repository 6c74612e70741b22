using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Ziya2.Plugins.Llama.Modules;

/// <summary>
/// A bias-free linear layer whose weight keeps the model's storage dtype while the matmul may run in bfloat16:
/// TorchSharp has no autocast, so BF16 mixed precision casts input and weight here. Autograd flows through the casts,
/// so gradients (and optimizer state) stay float32 (notes/torchsharp.md §6).
/// </summary>
sealed class ComputeLinear : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly ScalarType? _compute;

    public ComputeLinear(long inFeatures, long outFeatures, ScalarType? computeDtype) : base(nameof(ComputeLinear))
    {
        weight = nn.Parameter(empty(outFeatures, inFeatures));
        _compute = computeDtype;
        RegisterComponents();
    }

    public Parameter Weight => weight;

    public override Tensor forward(Tensor x) =>
        _compute is { } dt ? F.linear(x.to_type(dt), weight.to_type(dt)) : F.linear(x, weight);
}
