using System.Text.Json;
using System.Text.Json.Nodes;
using Ziya2.Models.Checkpoints;

namespace Ziya2.Plugins.Llama;

/// <summary>
/// A resolved LLaMA architecture. Field names and <c>config.json</c> keys are Hugging Face's <c>LlamaConfig</c>,
/// so checkpoints move between this framework and <c>transformers</c> unchanged.
/// </summary>
public sealed record LlamaConfig
{
    public int VocabSize { get; init; } = 32000;
    public int HiddenSize { get; init; } = 4096;
    public int IntermediateSize { get; init; } = 11008;
    public int NumHiddenLayers { get; init; } = 32;
    public int NumAttentionHeads { get; init; } = 32;
    public int NumKeyValueHeads { get; init; } = 32;
    public double RmsNormEps { get; init; } = 1e-5;
    public double RopeTheta { get; init; } = 10000.0;
    public int MaxPositionEmbeddings { get; init; } = 4096;
    public bool TieWordEmbeddings { get; init; }
    public int BosTokenId { get; init; } = 1;
    public int EosTokenId { get; init; } = 2;
    public int? PadTokenId { get; init; }
    public double InitializerRange { get; init; } = 0.02;

    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>Named architectures. Ziya2-13B is LLaMA2-13B with the vocabulary extended to 39,424 (paper §3.2).</summary>
    public static IReadOnlyDictionary<string, LlamaConfig> Presets { get; } = new Dictionary<string, LlamaConfig>
    {
        ["llama2-7b"] = new(),
        ["llama2-13b"] = new() { HiddenSize = 5120, IntermediateSize = 13824, NumHiddenLayers = 40, NumAttentionHeads = 40, NumKeyValueHeads = 40 },
        ["ziya2-13b"] = new() { VocabSize = 39424, HiddenSize = 5120, IntermediateSize = 13824, NumHiddenLayers = 40, NumAttentionHeads = 40, NumKeyValueHeads = 40 },
        // CPU sizes: byte-level vocabulary (3 specials + 256 bytes, padded to 320).
        ["tiny"] = new() { VocabSize = 320, HiddenSize = 64, IntermediateSize = 176, NumHiddenLayers = 4, NumAttentionHeads = 4, NumKeyValueHeads = 2, MaxPositionEmbeddings = 512 },
        ["small-100m"] = new() { VocabSize = 32000, HiddenSize = 768, IntermediateSize = 2048, NumHiddenLayers = 12, NumAttentionHeads = 12, NumKeyValueHeads = 12, MaxPositionEmbeddings = 2048 },
    };

    public IEnumerable<string> Validate()
    {
        if (VocabSize <= 0 || HiddenSize <= 0 || IntermediateSize <= 0 || NumHiddenLayers <= 0 || NumAttentionHeads <= 0 || NumKeyValueHeads <= 0)
            yield return "vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads and num_key_value_heads must be > 0";
        else
        {
            if (HiddenSize % NumAttentionHeads != 0) yield return "hidden_size must be divisible by num_attention_heads";
            else if (HeadDim % 2 != 0) yield return "head dimension (hidden_size / num_attention_heads) must be even for RoPE";
            if (NumAttentionHeads % NumKeyValueHeads != 0) yield return "num_attention_heads must be a multiple of num_key_value_heads";
        }
        if (MaxPositionEmbeddings <= 0) yield return "max_position_embeddings must be > 0";
        if (RmsNormEps <= 0 || RopeTheta <= 0) yield return "rms_norm_eps and rope_theta must be > 0";
    }

    /// <summary>Hugging Face <c>config.json</c>.</summary>
    public string ToJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"), ["model_type"] = "llama",
            ["vocab_size"] = VocabSize, ["hidden_size"] = HiddenSize, ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers, ["num_attention_heads"] = NumAttentionHeads, ["num_key_value_heads"] = NumKeyValueHeads,
            ["hidden_act"] = "silu", ["rms_norm_eps"] = RmsNormEps, ["rope_theta"] = RopeTheta, ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["tie_word_embeddings"] = TieWordEmbeddings, ["bos_token_id"] = BosTokenId, ["eos_token_id"] = EosTokenId,
            ["pad_token_id"] = PadTokenId, ["initializer_range"] = InitializerRange, ["attention_bias"] = false, ["mlp_bias"] = false,
            ["torch_dtype"] = "float32",
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads a Hugging Face <c>config.json</c>; refuses architectures this implementation does not compute exactly.</summary>
    public static LlamaConfig FromJson(string json, string source)
    {
        var root = HuggingFaceConfig.Parse(json, source);
        var type = root.String("model_type");
        if (type is not null && type != "llama") throw new InvalidDataException($"{source}: model_type '{type}' is not llama");
        if (root["rope_scaling"] is JsonObject) throw new InvalidDataException($"{source}: rope_scaling is not supported");
        if (root.Bool("attention_bias", false) || root.Bool("mlp_bias", false))
            throw new InvalidDataException($"{source}: attention/MLP biases are not supported");
        if (root.String("hidden_act") is { } act && act != "silu") throw new InvalidDataException($"{source}: hidden_act '{act}' is not supported");
        var d = new LlamaConfig();
        var heads = root.Int("num_attention_heads", d.NumAttentionHeads);
        var config = new LlamaConfig
        {
            VocabSize = root.Int("vocab_size", d.VocabSize), HiddenSize = root.Int("hidden_size", d.HiddenSize),
            IntermediateSize = root.Int("intermediate_size", d.IntermediateSize), NumHiddenLayers = root.Int("num_hidden_layers", d.NumHiddenLayers),
            NumAttentionHeads = heads, NumKeyValueHeads = root.Int("num_key_value_heads", heads),
            RmsNormEps = root.Double("rms_norm_eps", d.RmsNormEps), RopeTheta = root.Double("rope_theta", d.RopeTheta),
            MaxPositionEmbeddings = root.Int("max_position_embeddings", d.MaxPositionEmbeddings),
            TieWordEmbeddings = root.Bool("tie_word_embeddings", false),
            BosTokenId = root.Int("bos_token_id", d.BosTokenId), EosTokenId = root.IntOrFirstOfArray("eos_token_id", d.EosTokenId),
            PadTokenId = root.Has("pad_token_id") ? root.Int("pad_token_id") : null,
            InitializerRange = root.Double("initializer_range", d.InitializerRange),
        };
        var problems = config.Validate().ToList();
        if (problems.Count > 0) throw new InvalidDataException($"{source}: {string.Join("; ", problems)}");
        return config;
    }
}
