using TorchSharp;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Llama.Modules;

/// <summary>
/// Rotary position embedding in Hugging Face's rotate-half convention. Tables are built in float64 and kept in
/// float32; with <c>fp32</c> the rotation itself runs in float32 too (Ziya2 §3.4).
/// </summary>
sealed class Rotary : nn.Module
{
    readonly Tensor rope_cos, rope_sin;
    readonly bool _fp32;

    public Rotary(int headDim, int maxPositions, double theta, bool fp32) : base(nameof(Rotary))
    {
        _fp32 = fp32;
        var invFreq = 1.0 / pow(theta, arange(0, headDim, 2, dtype: ScalarType.Float64) / headDim);
        var freqs = outer(arange(maxPositions, dtype: ScalarType.Float64), invFreq);
        var emb = cat([freqs, freqs], -1);
        // Non-persistent and registered before RegisterComponents: derived from the config, never in checkpoints.
        register_buffer("rope_cos", rope_cos = emb.cos().to_type(ScalarType.Float32), persistent: false);
        register_buffer("rope_sin", rope_sin = emb.sin().to_type(ScalarType.Float32), persistent: false);
    }

    public int MaxPositions => (int)rope_cos.shape[0];

    /// <summary>cos/sin for <paramref name="positions"/> <c>[B, T]</c>, shaped <c>[B, 1, T, D]</c> to broadcast over heads.</summary>
    public (Tensor Cos, Tensor Sin) Tables(Tensor positions)
    {
        long last = positions.max().item<long>();
        if (last >= MaxPositions) throw new ArgumentException($"position {last} exceeds max_position_embeddings {MaxPositions}");
        var device = positions.device;
        return (rope_cos.to(device)[positions].unsqueeze(1), rope_sin.to(device)[positions].unsqueeze(1));
    }

    /// <summary>Rotates q or k <c>[B, H, T, D]</c>.</summary>
    public Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var h = _fp32 ? x.to_type(ScalarType.Float32) : x;
        long half = x.shape[3] / 2;
        var rotated = cat([-h[.., .., .., (int)half..], h[.., .., .., ..(int)half]], -1);
        return (h * cos.to_type(h.dtype) + rotated * sin.to_type(h.dtype)).to_type(x.dtype).MoveToOuterDisposeScope();
    }
}
