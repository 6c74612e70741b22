using System.Text.Json;
using TorchSharp;
using Ziya2.Configuration;
using Ziya2.Models;
using static TorchSharp.torch;

namespace MyZiya2Plugin;

/// <summary>Options, bound from the recipe's TOML (<c>[model]</c> by default; keys in snake_case).</summary>
public sealed class ComponentModelOptions : IValidatableOptions
{
    /// <summary>Vocabulary size: rows (and columns) of the bigram table.</summary>
    public int VocabSize { get; set; } = 1024;

    /// <summary>Longest sequence (a bigram model has no position limit; trainers and generation read this).</summary>
    public int MaxPositionEmbeddings { get; set; } = 2048;

    /// <summary>Seed of the initial weights.</summary>
    public long Seed { get; set; } = 1234;

    /// <inheritdoc/>
    public IEnumerable<string> Validate()
    {
        if (VocabSize < 2) yield return "vocab_size must be >= 2";
        if (MaxPositionEmbeddings < 2) yield return "max_position_embeddings must be >= 2";
    }
}

/// <summary>
/// A bigram language model: next-token logits are a learned row per current token. A model plugin implements the
/// network and its config only; checkpoints (Hugging Face safetensors), generation, training and evaluation come
/// from the framework and work on it unchanged.
/// </summary>
public sealed class ComponentModel : ILanguageModel
{
    sealed class Network : nn.Module<Tensor, Tensor>
    {
        public readonly TorchSharp.Modules.Embedding table;

        public Network(int vocab, long seed) : base("bigram")
        {
            table = nn.Embedding(vocab, vocab);
            using (no_grad()) table.weight!.copy_(randn(vocab, vocab, generator: new Generator((ulong)seed)) * 0.02);
            RegisterComponents();
        }

        public override Tensor forward(Tensor ids) => table.forward(ids);
    }

    Network _network;
    readonly ComponentModelOptions _options;

    /// <summary>Built by the host with the options bound from TOML.</summary>
    public ComponentModel(ComponentModelOptions options)
    {
        _options = options;
        VocabSize = options.VocabSize;
        _network = new Network(VocabSize, options.Seed);
    }

    /// <inheritdoc/>
    public string Architecture => "bigram";
    /// <inheritdoc/>
    public nn.Module<Tensor, Tensor> Module => _network;
    /// <inheritdoc/>
    public string ConfigJson => JsonSerializer.Serialize(new { model_type = Architecture, vocab_size = VocabSize, max_position_embeddings = MaxSequenceLength });
    /// <inheritdoc/>
    public int VocabSize { get; private set; }
    /// <inheritdoc/>
    public int MaxSequenceLength => _options.MaxPositionEmbeddings;

    /// <inheritdoc/>
    public Tensor Forward(Tensor ids, Tensor? documentIds = null) => _network.forward(ids);   // no attention: documents cannot leak

    /// <inheritdoc/>
    public double TrainingFlopsPerToken(int sequenceLength) => 6.0 * VocabSize;

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, Tensor Weight)> NamedWeights => [("bigram.weight", _network.table.weight!)];

    /// <inheritdoc/>
    public void CheckConfig(string configJson, string origin)
    {
        var root = JsonDocument.Parse(configJson).RootElement;
        if (!root.TryGetProperty("model_type", out var type) || type.GetString() != Architecture)
            throw new InvalidDataException($"{origin}: not a {Architecture} checkpoint");
        if (root.GetProperty("vocab_size").GetInt32() is var stored && stored != VocabSize)
            throw new InvalidDataException($"{origin}: vocab_size {stored}, this model has {VocabSize}");
    }

    /// <inheritdoc/>
    public void ExtendVocabulary(int newVocabSize, IReadOnlyList<VocabularyRowInit> rows)
    {
        if (newVocabSize < VocabSize) throw new ArgumentException($"new vocabulary ({newVocabSize}) is smaller than the current one ({VocabSize})");
        var grown = new Network(newVocabSize, _options.Seed);
        using (no_grad())
        {
            var old = _network.table.weight!;
            grown.table.weight!.narrow(0, 0, VocabSize).narrow(1, 0, VocabSize).copy_(old);
            foreach (var r in rows)   // a new token starts as the mean of the rows it used to be split into
                grown.table.weight!.narrow(0, r.NewId, 1).narrow(1, 0, VocabSize).copy_(old.index_select(0, tensor(r.SourceIds.Select(i => (long)i).ToArray())).mean([0L], keepdim: true));
        }
        _network.Dispose();
        (_network, VocabSize) = (grown, newVocabSize);
    }

    /// <inheritdoc/>
    public void Dispose() => _network.Dispose();
}
