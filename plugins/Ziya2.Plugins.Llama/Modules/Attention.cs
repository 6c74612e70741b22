using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Ziya2.Plugins.Llama.Modules;

/// <summary>Causal self-attention with grouped-query heads, RoPE and an optional document mask or KV cache.</summary>
sealed class Attention : nn.Module
{
    readonly ComputeLinear q_proj, k_proj, v_proj, o_proj;
    readonly int _heads, _kvHeads, _headDim;
    readonly bool _softmaxFp32;

    public Attention(LlamaConfig c, LlamaNumerics n, ScalarType? compute) : base(nameof(Attention))
    {
        _heads = c.NumAttentionHeads; _kvHeads = c.NumKeyValueHeads; _headDim = c.HeadDim; _softmaxFp32 = n.SoftmaxFp32;
        q_proj = new ComputeLinear(c.HiddenSize, _heads * _headDim, compute);
        k_proj = new ComputeLinear(c.HiddenSize, _kvHeads * _headDim, compute);
        v_proj = new ComputeLinear(c.HiddenSize, _kvHeads * _headDim, compute);
        o_proj = new ComputeLinear(_heads * _headDim, c.HiddenSize, compute);
        RegisterComponents();
    }

    /// <param name="x">Normalised hidden states <c>[B, T, d]</c>.</param>
    /// <param name="rotary">Shared rotary module.</param>
    /// <param name="cos">RoPE cos for these positions, <c>[B, 1, T, hd]</c>.</param>
    /// <param name="sin">RoPE sin.</param>
    /// <param name="mask">Boolean <c>[B, 1, T, Tk]</c> (true = may attend), or null for plain causal attention.</param>
    /// <param name="cache">KV cache and this layer's index, for incremental decoding.</param>
    public Tensor Forward(Tensor x, Rotary rotary, Tensor cos, Tensor sin, Tensor? mask, (KvCache Cache, int Layer)? cache)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var q = rotary.Apply(q_proj.forward(x).view(b, t, _heads, _headDim).transpose(1, 2), cos, sin);
        var k = rotary.Apply(k_proj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2), cos, sin);
        var v = v_proj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2);
        long past = 0;
        if (cache is { } c)
        {
            past = c.Cache.Length;
            (k, v) = c.Cache.Append(c.Layer, k, v);
        }
        if (_kvHeads != _heads)
        {
            // Query head h uses KV head h / (H / KV), as HF repeat_kv; TorchSharp's SDPA has no enable_gqa.
            k = k.repeat_interleave(_heads / _kvHeads, dim: 1);
            v = v.repeat_interleave(_heads / _kvHeads, dim: 1);
        }
        var dtype = q.dtype;
        if (_softmaxFp32 && dtype != ScalarType.Float32)
        {
            q = q.to_type(ScalarType.Float32); k = k.to_type(ScalarType.Float32); v = v.to_type(ScalarType.Float32);
        }
        Tensor y;
        if (mask is not null) y = F.scaled_dot_product_attention(q, k, v, attn_mask: mask);
        else if (past == 0) y = F.scaled_dot_product_attention(q, k, v, is_casual: true);
        else if (t == 1) y = F.scaled_dot_product_attention(q, k, v);   // one new token sees every cached position
        else
        {
            var allowed = ones(t, past + t, dtype: ScalarType.Bool, device: x.device).tril(past);
            y = F.scaled_dot_product_attention(q, k, v, attn_mask: allowed);
        }
        y = y.to_type(dtype).transpose(1, 2).contiguous().view(b, t, _heads * _headDim);
        return o_proj.forward(y).MoveToOuterDisposeScope();
    }
}
