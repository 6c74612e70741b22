using TorchSharp;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Llama.Modules;

/// <summary>Pre-norm block: <c>h = x + attn(norm(x)); out = h + mlp(norm(h))</c>. The residual keeps the input dtype.</summary>
sealed class DecoderLayer : nn.Module
{
    readonly RmsNorm input_layernorm, post_attention_layernorm;
    readonly Attention self_attn;
    readonly Mlp mlp;

    public DecoderLayer(LlamaConfig c, LlamaNumerics n, ScalarType? compute) : base(nameof(DecoderLayer))
    {
        input_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, n.RmsNormFp32);
        self_attn = new Attention(c, n, compute);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, n.RmsNormFp32);
        mlp = new Mlp(c, compute);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Rotary rotary, Tensor cos, Tensor sin, Tensor? mask, (KvCache, int)? cache)
    {
        using var scope = NewDisposeScope();
        var h = x + self_attn.Forward(input_layernorm.forward(x), rotary, cos, sin, mask, cache).to_type(x.dtype);
        return (h + mlp.forward(post_attention_layernorm.forward(h)).to_type(x.dtype)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Activation checkpointing for one block: forward runs without keeping activations; backward recomputes the block
/// with gradients enabled and back-propagates through it (TorchSharp has no torch.utils.checkpoint).
/// </summary>
sealed class CheckpointedBlock : autograd.SingleTensorFunction<CheckpointedBlock>
{
    public override string Name => "CheckpointedDecoderLayer";

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (x, layer, rotary, cos, sin, mask) = ((Tensor)vars[0], (DecoderLayer)vars[1], (Rotary)vars[2], (Tensor)vars[3], (Tensor)vars[4], vars[5] as Tensor);
        // Tensors must go through save_for_backward; modules and the optional mask through save_data.
        ctx.save_for_backward([x, cos, sin]);
        ctx.save_data("layer", layer);
        ctx.save_data("rotary", rotary);
        ctx.save_data("mask", mask!);
        using var scope = NewDisposeScope();
        return layer.Forward(x, rotary, cos, sin, mask, null).MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var saved = ctx.get_saved_variables();
        var layer = (DecoderLayer)ctx.get_data("layer");
        var rotary = (Rotary)ctx.get_data("rotary");
        var mask = ctx.get_data("mask") as Tensor;
        using var scope = NewDisposeScope();
        using (enable_grad())
        {
            var x = saved[0].detach().requires_grad_(true);
            layer.Forward(x, rotary, saved[1], saved[2], mask, null).backward([gradOutput]);
            // One entry per apply() argument, non-tensors included.
            return [x.grad!.MoveToOuterDisposeScope(), null!, null!, null!, null!, null!];
        }
    }
}
