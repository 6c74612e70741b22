using TorchSharp;
using static TorchSharp.torch;

namespace Ziya2.Models;

/// <summary>
/// A causal language model: the network and its configuration, nothing more. Constructed by the container from its
/// options (which describe the architecture); weights are then initialised randomly or read with
/// <see cref="Checkpoints.HuggingFaceCheckpoint.Load"/>. Checkpoint IO (<see cref="Checkpoints.HuggingFaceCheckpoint"/>) and
/// generation (<see cref="TextGeneration"/>) are functions over these members, written once for every architecture;
/// optional capabilities are separate interfaces (<see cref="IIncrementalDecoder"/> for fast generation,
/// <see cref="IModelExporter"/> for formats such as GGUF).
/// </summary>
public interface ILanguageModel : IDisposable
{
    /// <summary>Architecture name, e.g. <c>llama</c>.</summary>
    string Architecture { get; }

    /// <summary>The network: token ids <c>[batch, time]</c> (int64) → logits <c>[batch, time, vocab]</c>.</summary>
    nn.Module<Tensor, Tensor> Module { get; }

    /// <summary>The architecture configuration as JSON (Hugging Face <c>config.json</c> field names where they exist).</summary>
    string ConfigJson { get; }

    /// <summary>Vocabulary size (rows of the embedding matrix).</summary>
    int VocabSize { get; }

    /// <summary>Longest sequence the position encoding supports.</summary>
    int MaxSequenceLength { get; }

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

    /// <summary>Training FLOPs per token at <paramref name="sequenceLength"/> (forward + backward: 6N plus the attention term).</summary>
    double TrainingFlopsPerToken(int sequenceLength);

    /// <summary>
    /// The live weights under their checkpoint names (Hugging Face <c>transformers</c> names, e.g.
    /// <c>model.layers.0.self_attn.q_proj.weight</c>), in a stable order. Checkpoints read into and write from these.
    /// </summary>
    IReadOnlyList<(string Name, Tensor Weight)> NamedWeights { get; }

    /// <summary>
    /// Throws <see cref="InvalidDataException"/> naming the difference when <paramref name="configJson"/> (a checkpoint's
    /// config.json, read from <paramref name="origin"/>) describes another architecture than this model's.
    /// </summary>
    void CheckConfig(string configJson, string origin);

    /// <summary>
    /// Grows the vocabulary to <paramref name="newVocabSize"/> rows in the input embeddings and (if untied) the LM head.
    /// Rows listed in <paramref name="rows"/> become the weighted mean of their source rows in both matrices; other new
    /// rows (padding) the mean of all old rows. Call before creating the optimizer: parameters are replaced.
    /// </summary>
    void ExtendVocabulary(int newVocabSize, IReadOnlyList<VocabularyRowInit> rows);

    /// <summary>Where the weights are: inputs built for <see cref="Forward"/> go there.</summary>
    Device Device => Module.parameters().First().device;

    /// <summary>Number of trainable parameters.</summary>
    long ParameterCount => Module.parameters().Sum(p => p.numel());

    /// <summary>
    /// Parameters grouped for the optimizer. The default puts matrices in a <c>decay</c> group and vectors (norms,
    /// biases) in a <c>no_decay</c> group, as LLaMA and GPT trainers do.
    /// </summary>
    IReadOnlyList<ParameterGroup> GetParameterGroups()
    {
        var parameters = Module.parameters().ToList();
        return [new ParameterGroup("decay", parameters.Where(p => p.dim() >= 2).ToList(), true), new ParameterGroup("no_decay", parameters.Where(p => p.dim() < 2).ToList(), false)];
    }
}

/// <summary>The positions a model has already seen while decoding one sequence (keys and values per layer).</summary>
public interface IDecodingCache : IDisposable
{
    /// <summary>Positions held.</summary>
    long Length { get; }
}

/// <summary>
/// Optional capability: decoding one token at a time against a cache of past positions, so generating n tokens costs
/// n short forwards instead of n full ones. <see cref="TextGeneration"/> uses it when a model has it.
/// </summary>
public interface IIncrementalDecoder
{
    /// <summary>An empty cache for one sequence.</summary>
    IDecodingCache NewCache();

    /// <summary>Logits <c>[1, time, vocab]</c> for <paramref name="ids"/> <c>[1, time]</c> following what <paramref name="cache"/> holds; the cache grows by <c>time</c>.</summary>
    Tensor Forward(Tensor ids, IDecodingCache cache);
}

/// <summary>
/// Optional capability: incremental decoding of several sequences at once — prompts of different lengths padded on the
/// left to one length, each row at its own positions and attending only to its own tokens — so a benchmark's greedy
/// answers cost one short forward per token for the whole batch. <see cref="TextGeneration.GenerateBatch"/> uses it.
/// </summary>
public interface IBatchIncrementalDecoder : IIncrementalDecoder
{
    /// <summary>
    /// Logits <c>[batch, time, vocab]</c> for <paramref name="ids"/> <c>[batch, time]</c> following what
    /// <paramref name="cache"/> holds (one cache for the batch); <paramref name="positions"/> <c>[batch, time]</c> are each
    /// token's position in its own sequence, <paramref name="mask"/> <c>[batch, 1, time, cache.Length + time]</c> (bool,
    /// true = may attend) says which cached and new positions each token sees. The cache grows by <c>time</c>.
    /// </summary>
    Tensor Forward(Tensor ids, IDecodingCache cache, Tensor positions, Tensor mask);
}

/// <summary>Optional capability: formats besides Hugging Face checkpoints that a model can be written in (GGUF for llama.cpp).</summary>
public interface IModelExporter
{
    /// <summary>Format names, e.g. <c>gguf</c>.</summary>
    IReadOnlyList<string> ExportFormats { get; }

    /// <summary>
    /// Writes the model to <paramref name="path"/> in <paramref name="format"/> with tensors as <paramref name="dtype"/>.
    /// Formats that embed a vocabulary take it from <paramref name="tokenizer"/>.
    /// </summary>
    void Export(string format, string path, ScalarType dtype, Tokenization.ITokenizer? tokenizer = null);
}
