using Ziya2.Configuration;

namespace Ziya2.Plugins.Llama;

/// <summary>Architecture of a LLaMA model; key names follow Hugging Face's <c>LlamaConfig</c>.</summary>
public sealed class LlamaOptions : IValidatableOptions
{
    public int VocabSize { get; set; } = 32000;
    public int HiddenSize { get; set; } = 4096;
    public int IntermediateSize { get; set; } = 11008;
    public int NumHiddenLayers { get; set; } = 32;
    public int NumAttentionHeads { get; set; } = 32;
    /// <summary>Key/value heads for grouped-query attention; defaults to <see cref="NumAttentionHeads"/> (plain MHA).</summary>
    public int? NumKeyValueHeads { get; set; }
    public double RmsNormEps { get; set; } = 1e-5;
    public double RopeTheta { get; set; } = 10000.0;
    public int MaxPositionEmbeddings { get; set; } = 4096;
    public bool TieWordEmbeddings { get; set; }
    /// <summary>Standard deviation of the normal initialisation.</summary>
    public double InitializerRange { get; set; } = 0.02;
    /// <summary>Seed of the weight initialisation.</summary>
    public long Seed { get; set; } = 1234;

    public int KeyValueHeads => NumKeyValueHeads ?? NumAttentionHeads;
    public int HeadDim => HiddenSize / NumAttentionHeads;

    public IEnumerable<string> Validate()
    {
        if (VocabSize <= 0 || HiddenSize <= 0 || IntermediateSize <= 0 || NumHiddenLayers <= 0 || NumAttentionHeads <= 0)
            yield return "vocab_size, hidden_size, intermediate_size, num_hidden_layers and num_attention_heads must be > 0";
        else if (HiddenSize % NumAttentionHeads != 0) yield return "hidden_size must be divisible by num_attention_heads";
        else if (HeadDim % 2 != 0) yield return "head dimension (hidden_size / num_attention_heads) must be even for RoPE";
        if (KeyValueHeads <= 0 || NumAttentionHeads % KeyValueHeads != 0) yield return "num_attention_heads must be a multiple of num_key_value_heads";
        if (MaxPositionEmbeddings <= 0) yield return "max_position_embeddings must be > 0";
    }
}
