using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using Ziya2.Models;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Llama;

/// <summary>A LLaMA model built from <see cref="LlamaOptions"/>, initialised with normal(0, initializer_range).</summary>
public sealed class LlamaModel : ILanguageModel
{
    readonly LlamaOptions _options;
    readonly LlamaNetwork _network;

    public LlamaModel(LlamaOptions options)
    {
        _options = options;
        manual_seed(options.Seed);
        _network = new LlamaNetwork(options);
        using (no_grad())
        {
            foreach (var (name, p) in _network.named_parameters())
                if (!name.EndsWith("layernorm.weight", StringComparison.Ordinal) && name != "norm.weight")
                    nn.init.normal_(p, 0, options.InitializerRange);
        }
    }

    public string Architecture => "llama";
    public nn.Module<Tensor, Tensor> Module => _network;
    public int VocabSize => _options.VocabSize;
    public int MaxSequenceLength => _options.MaxPositionEmbeddings;
    public long ParameterCount => _network.parameters().Sum(p => p.numel());

    public string ConfigJson => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["architectures"] = new[] { "LlamaForCausalLM" }, ["model_type"] = "llama",
        ["vocab_size"] = _options.VocabSize, ["hidden_size"] = _options.HiddenSize, ["intermediate_size"] = _options.IntermediateSize,
        ["num_hidden_layers"] = _options.NumHiddenLayers, ["num_attention_heads"] = _options.NumAttentionHeads,
        ["num_key_value_heads"] = _options.KeyValueHeads, ["rms_norm_eps"] = _options.RmsNormEps, ["rope_theta"] = _options.RopeTheta,
        ["max_position_embeddings"] = _options.MaxPositionEmbeddings, ["tie_word_embeddings"] = _options.TieWordEmbeddings,
        ["initializer_range"] = _options.InitializerRange, ["hidden_act"] = "silu",
    }, new JsonSerializerOptions { WriteIndented = true });

    /// <summary>6N for the matmul parameters plus 12·L·d·T for attention scores (PaLM's formula, no causal discount).</summary>
    public double TrainingFlopsPerToken(int sequenceLength)
    {
        long embedding = (long)_options.VocabSize * _options.HiddenSize;
        long matmulParams = ParameterCount - embedding - NormParameters() + (_options.TieWordEmbeddings ? embedding : 0);
        return 6.0 * matmulParams + 12.0 * _options.NumHiddenLayers * _options.HiddenSize * sequenceLength;
    }

    long NormParameters() => (2L * _options.NumHiddenLayers + 1) * _options.HiddenSize;

    public IReadOnlyList<ParameterGroup> GetParameterGroups()
    {
        var decay = new List<Parameter>();
        var noDecay = new List<Parameter>();
        foreach (var (name, p) in _network.named_parameters())
            (p.dim() < 2 ? noDecay : decay).Add(p);   // norms (1-D) take no weight decay
        return [new ParameterGroup("decay", decay, true), new ParameterGroup("no_decay", noDecay, false)];
    }

    const string WeightsFile = "model.ts.bin", ConfigFile = "config.json";

    public void Save(string directory)
    {
        var full = Path.GetFullPath(directory);
        var tmp = full + ".tmp-" + Environment.ProcessId;
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);
        _network.save(Path.Combine(tmp, WeightsFile));
        File.WriteAllText(Path.Combine(tmp, ConfigFile), ConfigJson);
        if (Directory.Exists(full)) Directory.Delete(full, recursive: true);
        Directory.Move(tmp, full);
    }

    public void Load(string directory)
    {
        var weights = Path.Combine(directory, WeightsFile);
        var config = Path.Combine(directory, ConfigFile);
        if (!File.Exists(weights) || !File.Exists(config))
            throw new InvalidDataException($"{directory} is not a llama checkpoint: needs {WeightsFile} and {ConfigFile}");
        if (JsonDocument.Parse(File.ReadAllText(config)).RootElement.GetProperty("hidden_size").GetInt32() != _options.HiddenSize)
            throw new InvalidDataException($"{config}: architecture differs from the configured model");
        // Read into a scratch network first: a damaged or mismatched file must not leave live weights half-loaded.
        using var scratch = new LlamaNetwork(_options);
        try { scratch.load(weights, strict: true); }
        catch (Exception e) { throw new InvalidDataException($"{weights}: {e.Message}", e); }
        using (no_grad())
        {
            var source = scratch.named_parameters().ToDictionary(x => x.name, x => x.parameter);
            foreach (var (name, p) in _network.named_parameters()) p.copy_(source[name]);
        }
    }

    public void Dispose() => _network.Dispose();
}
