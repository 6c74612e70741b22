using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Ziya2.Plugins.Llama.Modules;

/// <summary>
/// The decoder. Parameter names are Hugging Face's without the <c>model.</c> prefix
/// (<c>layers.3.self_attn.q_proj.weight</c>); see <c>Checkpoints.HfNames</c>.
/// </summary>
sealed class LlamaNetwork : nn.Module<Tensor, Tensor>
{
    readonly Embedding embed_tokens;
    readonly ModuleList<DecoderLayer> layers;
    readonly RmsNorm norm;
    readonly ComputeLinear? lm_head;
    readonly Rotary rotary;
    readonly LlamaNumerics _numerics;
    readonly ScalarType? _compute;

    public LlamaNetwork(LlamaConfig c, LlamaNumerics n) : base(nameof(LlamaNetwork))
    {
        _numerics = n;
        ScalarType? compute = _compute = n.Precision == Precision.Bf16Mixed ? ScalarType.BFloat16 : null;
        embed_tokens = nn.Embedding(c.VocabSize, c.HiddenSize);
        rotary = new Rotary(c.HeadDim, c.MaxPositionEmbeddings, c.RopeTheta, n.RopeFp32);
        layers = nn.ModuleList(Enumerable.Range(0, c.NumHiddenLayers).Select(_ => new DecoderLayer(c, n, compute)).ToArray());
        norm = new RmsNorm(c.HiddenSize, c.RmsNormEps, n.RmsNormFp32);
        if (!c.TieWordEmbeddings) lm_head = new ComputeLinear(c.HiddenSize, c.VocabSize, compute);
        RegisterComponents();
    }

    public int LayerCount => layers.Count;

    public override Tensor forward(Tensor ids) => Run(ids, null, null, null);

    /// <summary>
    /// Float32 logits for <paramref name="ids"/> <c>[B, T]</c>. <paramref name="positions"/> default to
    /// <c>cache.Length + 0..T-1</c>; <paramref name="mask"/> overrides causal masking (document masks).
    /// </summary>
    public Tensor Run(Tensor ids, Tensor? positions, Tensor? mask, KvCache? cache) => Run(ids, positions, mask, cache, hiddenOnly: false);

    /// <summary>Float32 final-norm hidden states <c>[B, T, d]</c>: the LM head's input.</summary>
    public Tensor Hidden(Tensor ids) => Run(ids, null, null, null, hiddenOnly: true);

    Tensor Run(Tensor ids, Tensor? positions, Tensor? mask, KvCache? cache, bool hiddenOnly)
    {
        using var scope = NewDisposeScope();
        long t = ids.shape[1], past = cache?.Length ?? 0;
        positions ??= arange(past, past + t, dtype: ScalarType.Int64, device: ids.device).unsqueeze(0).expand(ids.shape[0], t);
        var (cos, sin) = rotary.Tables(positions);
        var h = embed_tokens.forward(ids);
        bool checkpoint = _numerics.ActivationCheckpointing && is_grad_enabled() && cache is null && training;
        for (int i = 0; i < layers.Count; i++)
            h = checkpoint ? CheckpointedBlock.apply(h, layers[i], rotary, cos, sin, mask!)
                           : layers[i].Forward(h, rotary, cos, sin, mask, cache is null ? null : (cache, i));
        h = norm.forward(h);
        if (hiddenOnly) return h.to_type(ScalarType.Float32).MoveToOuterDisposeScope();
        var headDtype = _compute ?? h.dtype;
        var logits = lm_head is null ? F.linear(h.to_type(headDtype), embed_tokens.weight!.to_type(headDtype)) : lm_head.forward(h);
        return logits.to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Positions restarting at each document and a mask allowing attention only to earlier tokens of the same
    /// document, from <paramref name="documentIds"/> <c>[B, T]</c> (a new document starts wherever the id changes).
    /// </summary>
    public static (Tensor Positions, Tensor Mask) DocumentLayout(Tensor documentIds)
    {
        using var scope = NewDisposeScope();
        long b = documentIds.shape[0], t = documentIds.shape[1];
        var index = arange(t, dtype: ScalarType.Int64, device: documentIds.device).unsqueeze(0).expand(b, t);
        var starts = ones(b, t, dtype: ScalarType.Bool, device: documentIds.device);
        if (t > 1) starts[.., 1..] = documentIds[.., 1..] != documentIds[.., ..^1];
        var startIndex = where(starts, index, zeros_like(index)).cummax(1).values;
        var positions = index - startIndex;
        var sameDoc = documentIds.unsqueeze(2) == documentIds.unsqueeze(1);           // [B, T, T]
        var causal = ones(t, t, dtype: ScalarType.Bool, device: documentIds.device).tril();
        var mask = (sameDoc & causal).unsqueeze(1);                                     // [B, 1, T, T]
        return (positions.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }
}
