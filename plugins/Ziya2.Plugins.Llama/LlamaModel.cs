using TorchSharp;
using Ziya2.Models;
using Ziya2.Models.Checkpoints;
using Ziya2.Plugins.Llama.Checkpoints;
using Ziya2.Plugins.Llama.Modules;
using Ziya2.Tokenization;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Llama;

/// <summary>
/// A LLaMA model: the network and its configuration, built from <see cref="LlamaOptions"/> and initialised with
/// normal(0, initializer_range) or read from a Hugging Face checkpoint (<see cref="HuggingFaceCheckpoint"/>, as every
/// model is). Decodes incrementally with a KV cache and exports to GGUF for llama.cpp.
/// </summary>
public sealed class LlamaModel : ILanguageModel, IBatchIncrementalDecoder, IModelExporter
{
    LlamaNetwork _network;
    readonly string? _checkpoint;

    public LlamaModel(LlamaOptions options)
    {
        Config = options.Resolve();
        _checkpoint = options.Checkpoint;
        Numerics = options.Numerics;
        _network = new LlamaNetwork(Config, Numerics);
        if (options.Checkpoint is not null) HuggingFaceCheckpoint.LoadWeights(this, options.Checkpoint);   // the config came from there
        else Initialize(options.Seed);
        if (Numerics.Precision == Precision.Bf16) _network.to(ScalarType.BFloat16);
        // "cuda" is this process's GPU: cuda:LOCAL_RANK under a launcher (one GPU per data-parallel rank), cuda:0 alone.
        var placed = Ziya2.Distributed.LaunchEnvironment.Current.PlaceDevice(options.Device);
        _device = new Device(placed);
        if (_device.type == DeviceType.CUDA)
        {
            if (!cuda.is_available())
                throw new InvalidOperationException($"model.device = \"{options.Device}\" but this TorchSharp build has no usable CUDA device; build the host with -p:Ziya2Torch=cuda (docs/training.md, 'GPUs'), or use device = \"cpu\"");
            if (_device.index >= cuda.device_count())
                throw new InvalidOperationException($"model.device = \"{options.Device}\" is {placed} here, but this node shows {cuda.device_count()} CUDA device(s): start at most that many ranks per node, one per GPU");
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

    public IDecodingCache NewCache() => new KvCache(_network.LayerCount);

    public Tensor Forward(Tensor ids, IDecodingCache cache) =>
        _network.Run(ids, null, null, cache as KvCache ?? throw new ArgumentException("the cache was not made by this model's NewCache()"));

    public Tensor Forward(Tensor ids, IDecodingCache cache, Tensor positions, Tensor mask)
    {
        var kv = cache as KvCache ?? throw new ArgumentException("the cache was not made by this model's NewCache()");
        if (!positions.shape.SequenceEqual(ids.shape)) throw new ArgumentException("positions must have the shape of ids");
        if (mask.shape is not [var b, 1, var t, var k] || b != ids.shape[0] || t != ids.shape[1] || k != kv.Length + ids.shape[1])
            throw new ArgumentException($"mask must be [batch, 1, time, cached + time] = [{ids.shape[0]}, 1, {ids.shape[1]}, {kv.Length + ids.shape[1]}], not [{string.Join(", ", mask.shape)}]");
        return _network.Run(ids, positions, mask, kv);
    }

    /// <summary>Our parameter names in Hugging Face's spelling (<c>model.layers.0.…</c>, <c>lm_head.weight</c>).</summary>
    public IReadOnlyList<(string Name, Tensor Weight)> NamedWeights =>
        _network.named_parameters().Select(x => (HfNames.ToHf(x.name), (Tensor)x.parameter)).ToList();

    /// <summary>A checkpoint's config.json must describe this architecture (the initializer range may differ: it is not one).</summary>
    public void CheckConfig(string configJson, string origin)
    {
        var stored = LlamaConfig.FromJson(configJson, origin);
        if (stored with { InitializerRange = Config.InitializerRange } != Config)
            throw new InvalidDataException($"{origin}: architecture differs from this model ({Describe(stored)} vs {Describe(Config)})");
    }

    static string Describe(LlamaConfig c) => $"vocab {c.VocabSize}, d {c.HiddenSize}, ff {c.IntermediateSize}, L {c.NumHiddenLayers}, H {c.NumAttentionHeads}/{c.NumKeyValueHeads}";

    public IReadOnlyList<string> ExportFormats { get; } = ["gguf"];

    /// <summary>GGUF for llama.cpp, its vocabulary from <paramref name="tokenizer"/> (a byte-level placeholder when none).</summary>
    public void Export(string format, string path, ScalarType dtype, ITokenizer? tokenizer = null)
    {
        if (format != "gguf") throw new ArgumentException($"unknown export format '{format}'; use hf or gguf");
        if (tokenizer is null && _checkpoint is not null && new[] { "tokenizer.model", "tokenizer.json" }.Any(f => File.Exists(Path.Combine(_checkpoint, f))))
            throw new ArgumentException($"{_checkpoint} has its own tokenizer; pass it to the export (ziya2 model export does) instead of the byte-level placeholder vocabulary");
        var vocabulary = tokenizer is null ? GgufVocabulary.ByteFallback(Config.VocabSize) : GgufVocabulary.PadTo(tokenizer.Vocabulary, Config.VocabSize);
        GgufWriter.Write(path, Config, _network.named_parameters().Select(x => (x.name, (Tensor)x.parameter)).ToList(), dtype,
            vocabulary, Path.GetFileNameWithoutExtension(path));
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
