using Ziya2.Models.Checkpoints;

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
        var config = HuggingFaceConfig.Parse(json, origin);
        int heads = config.Int("num_attention_heads", min: 1), hidden = config.Int("hidden_size", min: 1);
        if (hidden % heads != 0) throw new InvalidDataException($"{origin}: hidden_size {hidden} is not a multiple of num_attention_heads {heads}");
        return new ModelDimensions(config.Int("vocab_size", min: 1), hidden, config.Int("intermediate_size", min: 1), config.Int("num_hidden_layers", min: 1), heads,
            config.Int("num_key_value_heads", heads, min: 1), config.Bool("tie_word_embeddings", false));
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
