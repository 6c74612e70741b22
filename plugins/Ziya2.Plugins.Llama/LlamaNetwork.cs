using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Ziya2.Plugins.Llama;

/// <summary>RMSNorm computed in FP32 whatever the input dtype (Ziya2 §3.3), cast back afterwards.</summary>
sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly double _eps;

    public RmsNorm(int dim, double eps) : base("RmsNorm")
    {
        weight = nn.Parameter(ones(dim));
        _eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var x32 = x.to_type(ScalarType.Float32);
        var normed = x32 * rsqrt(x32.pow(2).mean([-1L], keepdim: true) + _eps);
        return (normed * weight).to_type(x.dtype).MoveToOuterDisposeScope();
    }
}

/// <summary>Rotary position embedding, HF rotate-half convention, tables and rotation in FP32 (Ziya2 §3.3).</summary>
sealed class Rotary : nn.Module
{
    readonly Tensor rope_cos, rope_sin;

    public Rotary(int headDim, int maxPositions, double theta) : base("Rotary")
    {
        var invFreq = 1.0 / pow(theta, arange(0, headDim, 2, dtype: ScalarType.Float64) / headDim);
        var freqs = outer(arange(maxPositions, dtype: ScalarType.Float64), invFreq);
        var emb = cat([freqs, freqs], -1);
        // Non-persistent: derived from the config, never part of checkpoints (see notes/torchsharp.md §8).
        register_buffer("rope_cos", rope_cos = emb.cos().to_type(ScalarType.Float32), persistent: false);
        register_buffer("rope_sin", rope_sin = emb.sin().to_type(ScalarType.Float32), persistent: false);
    }

    /// <summary>Rotates q or k of shape [B, H, T, D].</summary>
    public Tensor Apply(Tensor x)
    {
        using var scope = NewDisposeScope();
        long t = x.shape[2], half = x.shape[3] / 2;
        var cos = rope_cos[..(int)t].to(x.device);
        var sin = rope_sin[..(int)t].to(x.device);
        var x32 = x.to_type(ScalarType.Float32);
        var rotated = cat([-x32[.., .., .., (int)half..], x32[.., .., .., ..(int)half]], -1);
        return (x32 * cos + rotated * sin).to_type(x.dtype).MoveToOuterDisposeScope();
    }
}

sealed class Attention : nn.Module<Tensor, Tensor>
{
    readonly Linear q_proj, k_proj, v_proj, o_proj;
    readonly int _heads, _kvHeads, _headDim;
    readonly Rotary _rotary;

    public Attention(LlamaOptions o, Rotary rotary) : base("Attention")
    {
        _heads = o.NumAttentionHeads; _kvHeads = o.KeyValueHeads; _headDim = o.HeadDim; _rotary = rotary;
        q_proj = nn.Linear(o.HiddenSize, _heads * _headDim, hasBias: false);
        k_proj = nn.Linear(o.HiddenSize, _kvHeads * _headDim, hasBias: false);
        v_proj = nn.Linear(o.HiddenSize, _kvHeads * _headDim, hasBias: false);
        o_proj = nn.Linear(_heads * _headDim, o.HiddenSize, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var q = _rotary.Apply(q_proj.forward(x).view(b, t, _heads, _headDim).transpose(1, 2));
        var k = _rotary.Apply(k_proj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2));
        var v = v_proj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2);
        if (_kvHeads != _heads)
        {
            // TorchSharp's SDPA has no enable_gqa: expand shared K/V heads explicitly.
            k = k.repeat_interleave(_heads / _kvHeads, dim: 1);
            v = v.repeat_interleave(_heads / _kvHeads, dim: 1);
        }
        var y = F.scaled_dot_product_attention(q, k, v, is_casual: true);
        return o_proj.forward(y.transpose(1, 2).contiguous().view(b, t, _heads * _headDim)).MoveToOuterDisposeScope();
    }
}

sealed class Mlp : nn.Module<Tensor, Tensor>
{
    readonly Linear gate_proj, up_proj, down_proj;

    public Mlp(LlamaOptions o) : base("Mlp")
    {
        gate_proj = nn.Linear(o.HiddenSize, o.IntermediateSize, hasBias: false);
        up_proj = nn.Linear(o.HiddenSize, o.IntermediateSize, hasBias: false);
        down_proj = nn.Linear(o.IntermediateSize, o.HiddenSize, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return down_proj.forward(F.silu(gate_proj.forward(x)) * up_proj.forward(x)).MoveToOuterDisposeScope();
    }
}

sealed class DecoderLayer : nn.Module<Tensor, Tensor>
{
    readonly RmsNorm input_layernorm, post_attention_layernorm;
    readonly Attention self_attn;
    readonly Mlp mlp;

    public DecoderLayer(LlamaOptions o, Rotary rotary) : base("DecoderLayer")
    {
        input_layernorm = new RmsNorm(o.HiddenSize, o.RmsNormEps);
        self_attn = new Attention(o, rotary);
        post_attention_layernorm = new RmsNorm(o.HiddenSize, o.RmsNormEps);
        mlp = new Mlp(o);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x + self_attn.forward(input_layernorm.forward(x));
        return (h + mlp.forward(post_attention_layernorm.forward(h))).MoveToOuterDisposeScope();
    }
}

/// <summary>The decoder; parameter names match Hugging Face's (<c>model.layers.N.self_attn.q_proj.weight</c>…).</summary>
sealed class LlamaNetwork : nn.Module<Tensor, Tensor>
{
    readonly Embedding embed_tokens;
    readonly ModuleList<DecoderLayer> layers;
    readonly RmsNorm norm;
    readonly Linear? lm_head;
    readonly Rotary rotary;

    public LlamaNetwork(LlamaOptions o) : base("LlamaNetwork")
    {
        embed_tokens = nn.Embedding(o.VocabSize, o.HiddenSize);
        rotary = new Rotary(o.HeadDim, o.MaxPositionEmbeddings, o.RopeTheta);
        layers = nn.ModuleList(Enumerable.Range(0, o.NumHiddenLayers).Select(_ => new DecoderLayer(o, rotary)).ToArray());
        norm = new RmsNorm(o.HiddenSize, o.RmsNormEps);
        if (!o.TieWordEmbeddings) lm_head = nn.Linear(o.HiddenSize, o.VocabSize, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var h = embed_tokens.forward(ids);
        foreach (var layer in layers) h = layer.forward(h);
        h = norm.forward(h);
        var logits = lm_head is null ? F.linear(h, embed_tokens.weight!) : lm_head.forward(h);
        return logits.MoveToOuterDisposeScope();
    }
}
