using Ziya2.Configuration;

namespace Ziya2.Plugins.Llama;

/// <summary>Compute precision of the model.</summary>
public enum Precision
{
    /// <summary>Everything in float32.</summary>
    Fp32,
    /// <summary>Float32 master weights and residual stream; matmuls in bfloat16 (Ziya2's BF16 mixed precision).</summary>
    Bf16Mixed,
    /// <summary>Weights and activations in bfloat16 (optimizer moments follow the weights).</summary>
    Bf16,
}

/// <summary>
/// Options of the <c>llama</c> model component. The architecture comes from <see cref="Preset"/>, then from the
/// checkpoint's <c>config.json</c> when <see cref="Checkpoint"/> is set, then from any field given here. Keys are
/// Hugging Face's.
/// </summary>
public sealed class LlamaOptions : IValidatableOptions
{
    /// <summary>Named architecture: llama2-7b, llama2-13b, ziya2-13b, tiny, small-100m.</summary>
    public string? Preset { get; set; }
    /// <summary>Hugging Face checkpoint directory to load (config.json + *.safetensors).</summary>
    public string? Checkpoint { get; set; }

    public int? VocabSize { get; set; }
    public int? HiddenSize { get; set; }
    public int? IntermediateSize { get; set; }
    public int? NumHiddenLayers { get; set; }
    public int? NumAttentionHeads { get; set; }
    public int? NumKeyValueHeads { get; set; }
    public double? RmsNormEps { get; set; }
    public double? RopeTheta { get; set; }
    public int? MaxPositionEmbeddings { get; set; }
    public bool? TieWordEmbeddings { get; set; }
    public int? BosTokenId { get; set; }
    public int? EosTokenId { get; set; }
    public int? PadTokenId { get; set; }
    public double? InitializerRange { get; set; }

    /// <summary>Compute precision.</summary>
    public Precision Precision { get; set; } = Precision.Fp32;
    /// <summary>Compute RoPE in float32 whatever the activation dtype (Ziya2 §3.4).</summary>
    public bool RopeFp32 { get; set; } = true;
    /// <summary>Compute RMSNorm in float32 (Ziya2 §3.5).</summary>
    public bool RmsNormFp32 { get; set; } = true;
    /// <summary>Run attention's softmax in float32 (Ziya2 §3.5). On CUDA, flash kernels already accumulate in FP32.</summary>
    public bool SoftmaxFp32 { get; set; } = true;
    /// <summary>Recompute each decoder block in backward instead of storing its activations.</summary>
    public bool ActivationCheckpointing { get; set; }
    /// <summary>
    /// Where the weights live: <c>cpu</c>, <c>cuda</c> (this process's GPU: <c>cuda:LOCAL_RANK</c> under mpiexec or srun,
    /// one per data-parallel rank) or <c>cuda:N</c>. CUDA needs the host built with TorchSharp's CUDA natives
    /// (<c>-p:Ziya2Torch=cuda</c>).
    /// </summary>
    public string Device { get; set; } = "cpu";
    /// <summary>Seed of the random initialisation (ignored when a checkpoint is loaded).</summary>
    public long Seed { get; set; } = 1234;

    public IEnumerable<string> Validate()
    {
        if (Preset is not null && !LlamaConfig.Presets.ContainsKey(Preset))
            yield return $"unknown preset '{Preset}'; presets: {string.Join(", ", LlamaConfig.Presets.Keys)}";
        if (!(Device == "cpu" || Device == "cuda" || (Device.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(Device[5..], out var n) && n >= 0)))
            yield return $"device '{Device}' is not cpu, cuda or cuda:N";
        if (Checkpoint is not null && !File.Exists(Path.Combine(Checkpoint, "config.json")))
        {
            yield return $"checkpoint '{Checkpoint}' has no config.json";
            yield break;
        }
        string? problem = null;
        try { Resolve(); }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or KeyNotFoundException) { problem = e.Message; }
        if (problem is not null) yield return problem;
    }

    /// <summary>The architecture these options describe.</summary>
    public LlamaConfig Resolve()
    {
        var c = Preset is null ? new LlamaConfig() : LlamaConfig.Presets[Preset];
        if (Checkpoint is not null)
        {
            var path = Path.Combine(Checkpoint, "config.json");
            c = LlamaConfig.FromJson(File.ReadAllText(path), path);
        }
        c = c with
        {
            VocabSize = VocabSize ?? c.VocabSize, HiddenSize = HiddenSize ?? c.HiddenSize, IntermediateSize = IntermediateSize ?? c.IntermediateSize,
            NumHiddenLayers = NumHiddenLayers ?? c.NumHiddenLayers, NumAttentionHeads = NumAttentionHeads ?? c.NumAttentionHeads,
            NumKeyValueHeads = NumKeyValueHeads ?? (NumAttentionHeads is { } h && Checkpoint is null && Preset is null ? h : c.NumKeyValueHeads),
            RmsNormEps = RmsNormEps ?? c.RmsNormEps, RopeTheta = RopeTheta ?? c.RopeTheta, MaxPositionEmbeddings = MaxPositionEmbeddings ?? c.MaxPositionEmbeddings,
            TieWordEmbeddings = TieWordEmbeddings ?? c.TieWordEmbeddings, BosTokenId = BosTokenId ?? c.BosTokenId, EosTokenId = EosTokenId ?? c.EosTokenId,
            PadTokenId = PadTokenId ?? c.PadTokenId, InitializerRange = InitializerRange ?? c.InitializerRange,
        };
        var problems = c.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems));
        return c;
    }

    internal LlamaNumerics Numerics => new(Precision, RopeFp32, RmsNormFp32, SoftmaxFp32, ActivationCheckpointing);
}

/// <summary>Numerics switches threaded through the modules.</summary>
internal sealed record LlamaNumerics(Precision Precision, bool RopeFp32, bool RmsNormFp32, bool SoftmaxFp32, bool ActivationCheckpointing)
{
    public static LlamaNumerics Default { get; } = new(Precision.Fp32, true, true, true, false);
}
