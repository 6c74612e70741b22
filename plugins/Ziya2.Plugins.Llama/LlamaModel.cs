using TorchSharp;
using Ziya2.Models;
using Ziya2.Plugins.Llama.Checkpoints;
using Ziya2.Plugins.Llama.Modules;
using Ziya2.Tokenization;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Llama;

/// <summary>
/// A LLaMA model: built from <see cref="LlamaOptions"/>, initialised with normal(0, initializer_range) or loaded from
/// a Hugging Face checkpoint, saved as one, and exported to GGUF for llama.cpp.
/// </summary>
public sealed class LlamaModel : ILanguageModel
{
    LlamaNetwork _network;
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
        _device = new Device(options.Device);
        if (_device.type == DeviceType.CUDA)
        {
            if (!cuda.is_available())
                throw new InvalidOperationException($"model.device = \"{options.Device}\" but this TorchSharp build has no usable CUDA device; install the libtorch-cuda native package in the host, or use device = \"cpu\"");
            _network.to(_device);
        }
    }

    readonly Device _device;

    /// <summary>The resolved architecture.</summary>
    public LlamaConfig Config { get; private set; }
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

    public Tensor HiddenStates(Tensor ids) => _network.Hidden(ids);

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

    public void Export(string format, string path, string dtype, ITokenizer? tokenizer = null)
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
                if (tokenizer is null && _checkpoint is not null && new[] { "tokenizer.model", "tokenizer.json" }.Any(f => File.Exists(Path.Combine(_checkpoint, f))))
                    throw new ArgumentException($"{_checkpoint} has its own tokenizer; pass it to the export (ziya2 model export does) instead of the byte-level placeholder vocabulary");
                var vocabulary = tokenizer is null ? GgufVocabulary.ByteFallback(Config.VocabSize) : GgufVocabulary.PadTo(tokenizer.Vocabulary, Config.VocabSize);
                GgufWriter.Write(path, Config, _network.named_parameters().Select(x => (x.name, (Tensor)x.parameter)).ToList(), type,
                    vocabulary, Path.GetFileNameWithoutExtension(path));
                break;
            default: throw new ArgumentException($"unknown export format '{format}'; use {string.Join(" or ", ExportFormats)}");
        }
    }

    /// <summary>
    /// Rebuilds the network with <paramref name="newVocabSize"/> rows, copying every weight and filling new rows of the
    /// embedding and LM head as the (weighted) mean of their source rows (Ziya2 §3.3); unlisted new rows (padding) get
    /// the mean of all old rows.
    /// </summary>
    public void ExtendVocabulary(int newVocabSize, IReadOnlyList<VocabularyRowInit> rows)
    {
        int oldVocab = Config.VocabSize;
        if (newVocabSize < oldVocab) throw new ArgumentException($"new vocabulary ({newVocabSize}) is smaller than the current one ({oldVocab})");
        foreach (var r in rows)
        {
            if (r.NewId < oldVocab || r.NewId >= newVocabSize) throw new ArgumentException($"row {r.NewId} is not a new id in [{oldVocab}, {newVocabSize})");
            if (r.SourceIds.Count == 0 || r.SourceIds.Any(id => id < 0 || id >= oldVocab)) throw new ArgumentException($"row {r.NewId}: source ids must be existing ids");
            foreach (var w in new[] { r.Weights, r.OutputWeights })
                if (w is not null && (w.Count != r.SourceIds.Count || w.Any(x => x < 0) || w.Sum() <= 0)) throw new ArgumentException($"row {r.NewId}: one non-negative weight per source id");
        }
        var config = Config with { VocabSize = newVocabSize };
        var network = new LlamaNetwork(config, Numerics);
        if (Numerics.Precision == Precision.Bf16) network.to(ScalarType.BFloat16);
        if (_device.type != DeviceType.CPU) network.to(_device);
        using (no_grad())
        {
            var old = _network.named_parameters().ToDictionary(x => x.name, x => x.parameter);
            foreach (var (name, p) in network.named_parameters())
            {
                var source = old[name];
                if (name is not ("embed_tokens.weight" or "lm_head.weight")) { p.copy_(source); continue; }
                using var scope = NewDisposeScope();
                var src32 = source.to_type(ScalarType.Float32);
                var filled = src32.mean([0L], keepdim: true).expand(newVocabSize - oldVocab, -1).clone();
                foreach (var r in rows)
                {
                    var ids = tensor(r.SourceIds.Select(i => (long)i).ToArray(), device: src32.device);
                    var chosen = name == "lm_head.weight" ? r.OutputWeights ?? r.Weights : r.Weights;
                    var weights = tensor((chosen ?? r.SourceIds.Select(_ => 1.0).ToList()).ToArray(), device: src32.device).to_type(ScalarType.Float32);
                    filled.narrow(0, r.NewId - oldVocab, 1).copy_((src32.index_select(0, ids) * (weights / weights.sum()).unsqueeze(1)).sum(0, keepdim: true));
                }
                p.copy_(cat([src32, filled], 0));
            }
        }
        _network.Dispose();
        _network = network;
        Config = config;
    }

    public void Dispose() => _network.Dispose();
}
