using TorchSharp;
using static TorchSharp.torch;

namespace Ziya2.Models;

/// <summary>
/// A causal language model. Constructed by the container from its options (which describe the architecture);
/// weights are then initialised randomly or read with <see cref="Load"/>.
/// </summary>
public interface ILanguageModel : IDisposable
{
    /// <summary>Architecture name, e.g. <c>llama</c>.</summary>
    string Architecture { get; }

    /// <summary>The network: token ids <c>[batch, time]</c> (int64) → logits <c>[batch, time, vocab]</c>.</summary>
    nn.Module<Tensor, Tensor> Module { get; }

    /// <summary>
    /// Logits <c>[batch, time, vocab]</c> (float32) for token ids <c>[batch, time]</c>. With <paramref name="documentIds"/>
    /// (same shape; equal ids mark one document inside a packed row) tokens attend only within their document and
    /// positions restart at each document, as if every document had been run alone.
    /// </summary>
    Tensor Forward(Tensor ids, Tensor? documentIds = null);

    /// <summary>
    /// The last layer's normalised hidden states <c>[batch, time, hidden]</c> (float32) for token ids <c>[batch, time]</c>:
    /// what the LM head reads, and what mean-pooled text embeddings are made of. Models that cannot expose them throw
    /// <see cref="NotSupportedException"/> (the default).
    /// </summary>
    Tensor HiddenStates(Tensor ids) => throw new NotSupportedException($"{Architecture} does not expose hidden states");
    /// <summary>Continues <paramref name="prompt"/> (one sequence) with a KV cache; returns only the new tokens.</summary>
    IReadOnlyList<long> Generate(IReadOnlyList<long> prompt, GenerationOptions options);

    /// <summary>Where the weights are: inputs built for <see cref="Forward"/> go there.</summary>
    Device Device => Module.parameters().First().device;
    /// <summary>Vocabulary size (rows of the embedding matrix).</summary>
    int VocabSize { get; }

    /// <summary>Longest sequence the position encoding supports.</summary>
    int MaxSequenceLength { get; }

    /// <summary>The architecture configuration as JSON (Hugging Face <c>config.json</c> field names where they exist).</summary>
    string ConfigJson { get; }

    /// <summary>Number of trainable parameters.</summary>
    long ParameterCount { get; }

    /// <summary>Training FLOPs per token at <paramref name="sequenceLength"/> (forward + backward: 6N plus the attention term).</summary>
    double TrainingFlopsPerToken(int sequenceLength);

    /// <summary>Parameters grouped for the optimizer (see <see cref="ParameterGroup"/>).</summary>
    IReadOnlyList<ParameterGroup> GetParameterGroups();

    /// <summary>Writes weights and configuration into <paramref name="directory"/>; atomic (complete or absent).</summary>
    void Save(string directory);

    /// <summary>
    /// Grows the vocabulary to <paramref name="newVocabSize"/> rows in the input embeddings and (if untied) the LM head.
    /// Rows listed in <paramref name="rows"/> become the weighted mean of their source rows in both matrices; other new
    /// rows (padding) the mean of all old rows. Call before creating the optimizer: parameters are replaced.
    /// </summary>
    void ExtendVocabulary(int newVocabSize, IReadOnlyList<VocabularyRowInit> rows);

    /// <summary>Formats <see cref="Export"/> accepts, e.g. <c>hf</c>, <c>gguf</c>.</summary>
    IReadOnlyList<string> ExportFormats { get; }

    /// <summary>
    /// Writes the model to <paramref name="path"/> in <paramref name="format"/> with tensors stored as <paramref name="dtype"/>
    /// (<c>f32</c>, <c>f16</c>, <c>bf16</c>). Formats that embed a vocabulary (GGUF) take it from <paramref name="tokenizer"/>.
    /// </summary>
    void Export(string format, string path, string dtype, Tokenization.ITokenizer? tokenizer = null);

    /// <summary>
    /// Reads weights from <paramref name="directory"/>. Implementations validate the checkpoint completely before
    /// touching the live weights, and throw <see cref="InvalidDataException"/> naming the problem.
    /// </summary>
    void Load(string directory);
}
