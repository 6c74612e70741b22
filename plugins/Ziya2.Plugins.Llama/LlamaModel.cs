using TorchSharp;
using Ziya2.Models;
using Ziya2.Plugins.Llama.Checkpoints;
using Ziya2.Plugins.Llama.Modules;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Llama;

/// <summary>
/// A LLaMA model: built from <see cref="LlamaOptions"/>, initialised with normal(0, initializer_range) or loaded from
/// a Hugging Face checkpoint, saved as one, and exported to GGUF for llama.cpp.
/// </summary>
public sealed class LlamaModel : ILanguageModel
{
    readonly LlamaNetwork _network;
    readonly string? _checkpoint;

    public LlamaModel(LlamaOptions options)
    {
        Config = options.Resolve();
        _checkpoint = options.Checkpoint;
        Numerics = options.Numerics;
        _network = new LlamaNetwork(Config, Numerics);
        if (options.Checkpoint is not null) HfCheckpoint.Load(options.Checkpoint, HfParameters());
        else Initialize(options.Seed);
        if (Numerics.Precision == Precision.Bf16) _network.to(ScalarType.BFloat16);
    }

    /// <summary>The resolved architecture.</summary>
    public LlamaConfig Config { get; }
    internal LlamaNumerics Numerics { get; }
    internal LlamaNetwork Network => _network;

    void Initialize(long seed)
    {
        // A private generator: initialisation is reproducible from the seed and leaves the global RNG alone.
        var generator = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var (name, p) in _network.named_parameters())
            if (p.dim() >= 2) p.copy_(randn(p.shape, generator: generator) * Config.InitializerRange);   // 1-D: norm weights stay 1
    }

    public string Architecture => "llama";
    public nn.Module<Tensor, Tensor> Module => _network;
    public int VocabSize => Config.VocabSize;
    public int MaxSequenceLength => Config.MaxPositionEmbeddings;
    public string ConfigJson => Config.ToJson();
    public long ParameterCount => _network.parameters().Sum(p => p.numel());

    /// <summary>6N over the matmul parameters (embedding lookup excluded, LM head included) + 12·L·d·T for attention scores.</summary>
    public double TrainingFlopsPerToken(int sequenceLength)
    {
        long d = Config.HiddenSize, kv = (long)Config.NumKeyValueHeads * Config.HeadDim;
        long perLayer = 2 * d * d + 2 * d * kv + 3 * d * Config.IntermediateSize;
        long matmul = Config.NumHiddenLayers * perLayer + (long)Config.VocabSize * d;
        return 6.0 * matmul + 12.0 * Config.NumHiddenLayers * d * sequenceLength;
    }

    public Tensor Forward(Tensor ids, Tensor? documentIds = null)
    {
        if (documentIds is null) return _network.Run(ids, null, null, null);
        using var scope = NewDisposeScope();
        if (!documentIds.shape.SequenceEqual(ids.shape)) throw new ArgumentException("documentIds must have the shape of ids");
        var (positions, mask) = LlamaNetwork.DocumentLayout(documentIds);
        return _network.Run(ids, positions, mask, null).MoveToOuterDisposeScope();
    }

    public IReadOnlyList<long> Generate(IReadOnlyList<long> prompt, GenerationOptions options) => Generation.Run(_network, Config, prompt, options);

    public IReadOnlyList<ParameterGroup> GetParameterGroups()
    {
        var decay = new List<TorchSharp.Modules.Parameter>();
        var noDecay = new List<TorchSharp.Modules.Parameter>();
        foreach (var (_, p) in _network.named_parameters()) (p.dim() < 2 ? noDecay : decay).Add(p);   // norms: no weight decay
        return [new ParameterGroup("decay", decay, true), new ParameterGroup("no_decay", noDecay, false)];
    }

    /// <summary>HF name → live parameter.</summary>
    internal IReadOnlyDictionary<string, Tensor> HfParameters() =>
        _network.named_parameters().ToDictionary(x => HfNames.ToHf(x.name), x => (Tensor)x.parameter, StringComparer.Ordinal);

    /// <summary>Largest shard written by <see cref="Save"/> (HF's default is 5 GB; smaller values are for tests).</summary>
    public long MaxShardBytes { get; set; } = 5L << 30;

    /// <summary>Saves a Hugging Face checkpoint in the weights' own dtype.</summary>
    public void Save(string directory) => SaveHf(directory, _network.parameters().First().dtype);

    void SaveHf(string directory, ScalarType dtype) =>
        HfCheckpoint.Save(directory, Config.ToJson(), _network.named_parameters().Select(x => (HfNames.ToHf(x.name), (Tensor)x.parameter)).ToList(), dtype, MaxShardBytes);

    /// <summary>Loads a Hugging Face checkpoint of this architecture; refused untouched if anything differs.</summary>
    public void Load(string directory)
    {
        var configPath = Path.Combine(directory, HfCheckpoint.ConfigFile);
        if (!File.Exists(configPath)) throw new InvalidDataException($"{directory}: no {HfCheckpoint.ConfigFile}");
        var stored = LlamaConfig.FromJson(File.ReadAllText(configPath), configPath);
        if (stored with { InitializerRange = Config.InitializerRange } != Config)
            throw new InvalidDataException($"{configPath}: architecture differs from this model ({Describe(stored)} vs {Describe(Config)})");
        HfCheckpoint.Load(directory, HfParameters());
    }

    static string Describe(LlamaConfig c) => $"vocab {c.VocabSize}, d {c.HiddenSize}, ff {c.IntermediateSize}, L {c.NumHiddenLayers}, H {c.NumAttentionHeads}/{c.NumKeyValueHeads}";

    public IReadOnlyList<string> ExportFormats { get; } = ["hf", "gguf"];

    /// <summary>The vocabulary written into GGUF exports; defaults to the byte-fallback layout of the tiny models.</summary>
    public GgufVocabulary? Vocabulary { get; set; }

    public void Export(string format, string path, string dtype)
    {
        var type = dtype switch
        {
            "f32" => ScalarType.Float32, "f16" => ScalarType.Float16, "bf16" => ScalarType.BFloat16,
            _ => throw new ArgumentException($"unknown dtype '{dtype}'; use f32, f16 or bf16"),
        };
        switch (format)
        {
            case "hf": SaveHf(path, type); break;
            case "gguf":
                if (Vocabulary is null && _checkpoint is not null && new[] { "tokenizer.model", "tokenizer.json" }.Any(f => File.Exists(Path.Combine(_checkpoint, f))))
                    throw new ArgumentException($"{_checkpoint} has its own tokenizer; writing its vocabulary into GGUF needs the tokenizer plugin, which is not available yet. " +
                                                "Refusing to write the byte-level placeholder vocabulary for it.");
                GgufWriter.Write(path, Config, _network.named_parameters().Select(x => (x.name, (Tensor)x.parameter)).ToList(), type,
                    Vocabulary ?? GgufVocabulary.ByteFallback(Config.VocabSize), Path.GetFileNameWithoutExtension(path));
                break;
            default: throw new ArgumentException($"unknown export format '{format}'; use {string.Join(" or ", ExportFormats)}");
        }
    }

    public void Dispose() => _network.Dispose();
}
