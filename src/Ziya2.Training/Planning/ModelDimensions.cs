using System.Text.Json.Nodes;

namespace Ziya2.Training.Planning;

/// <summary>
/// The sizes a training plan needs, read from a Hugging Face <c>config.json</c> so a plan never has to build the model
/// (a 13B model on a laptop would take 52 GB just to be counted).
/// </summary>
public sealed record ModelDimensions(int VocabSize, int HiddenSize, int IntermediateSize, int Layers, int Heads, int KeyValueHeads, bool TiedEmbeddings)
{
    int HeadDim => HiddenSize / Heads;

    /// <summary>Reads <c>vocab_size</c>, <c>hidden_size</c>, <c>intermediate_size</c>, <c>num_hidden_layers</c>, <c>num_attention_heads</c>, <c>num_key_value_heads</c>, <c>tie_word_embeddings</c>.</summary>
    public static ModelDimensions FromHuggingFaceConfig(string json, string origin)
    {
        var node = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{origin}: not a JSON object");
        int Int(string key) => node[key]?.GetValue<int>() ?? throw new InvalidDataException($"{origin}: no '{key}'");
        int heads = Int("num_attention_heads");
        return new ModelDimensions(Int("vocab_size"), Int("hidden_size"), Int("intermediate_size"), Int("num_hidden_layers"), heads,
            node["num_key_value_heads"]?.GetValue<int>() ?? heads, node["tie_word_embeddings"]?.GetValue<bool>() ?? false);
    }

    /// <summary>Trainable parameters: embeddings, attention, SwiGLU MLP, two RMSNorms per layer, final norm, LM head.</summary>
    public long Parameters
    {
        get
        {
            long d = HiddenSize, kv = (long)KeyValueHeads * HeadDim;
            long perLayer = 2 * d * d + 2 * d * kv + 3 * d * IntermediateSize + 2 * d;
            return (long)VocabSize * d * (TiedEmbeddings ? 1 : 2) + Layers * perLayer + d;
        }
    }

    /// <summary>Training FLOPs per token: 6 × matmul parameters plus attention (12·L·d·T), as the LLaMA plugin counts them for MFU.</summary>
    public double TrainingFlopsPerToken(int sequenceLength)
    {
        long d = HiddenSize, kv = (long)KeyValueHeads * HeadDim;
        long matmul = Layers * (2 * d * d + 2 * d * kv + 3 * d * IntermediateSize) + (long)VocabSize * d;
        return 6.0 * matmul + 12.0 * Layers * d * sequenceLength;
    }
}
