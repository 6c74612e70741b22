using System.Text.Json;
using TorchSharp;
using Ziya2.Events;
using Ziya2.Models;
using Ziya2.Models.Checkpoints;
using Ziya2.Plugins.Llama;
using Ziya2.Plugins.Optimizers;
using Ziya2.Plugins.Schedulers;
using Ziya2.Training.Data;
using static TorchSharp.torch;

namespace Ziya2.Training.Tests;

/// <summary>
/// The narrow model contract: a second architecture that implements only the network and its config (a bigram model,
/// ~30 lines) trains in the engine with checkpoints and bit-identical resume, round-trips through Hugging Face
/// checkpoints, generates, and is refused formats it does not offer — nothing of that is re-implemented per model.
/// </summary>
public sealed class ModelContractTests : IDisposable
{
    readonly TempDir _tmp = new();

    /// <summary>Next-token logits from the current token alone: an embedding read straight out as logits.</summary>
    sealed class BigramModel : ILanguageModel
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

        readonly Network _network;
        public BigramModel(int vocab, long seed = 1) { VocabSize = vocab; _network = new Network(vocab, seed); }

        public string Architecture => "bigram";
        public nn.Module<Tensor, Tensor> Module => _network;
        public string ConfigJson => JsonSerializer.Serialize(new { model_type = "bigram", vocab_size = VocabSize });
        public int VocabSize { get; }
        public int MaxSequenceLength => 1 << 20;
        public Tensor Forward(Tensor ids, Tensor? documentIds = null) => _network.forward(ids);
        public double TrainingFlopsPerToken(int sequenceLength) => 6.0 * VocabSize;
        public IReadOnlyList<(string Name, Tensor Weight)> NamedWeights => [("bigram.weight", _network.table.weight!)];
        public void CheckConfig(string configJson, string origin)
        {
            int stored = JsonDocument.Parse(configJson).RootElement.GetProperty("vocab_size").GetInt32();
            if (stored != VocabSize) throw new InvalidDataException($"{origin}: vocab_size {stored}, this model has {VocabSize}");
        }
        public void ExtendVocabulary(int newVocabSize, IReadOnlyList<VocabularyRowInit> rows) => throw new NotSupportedException();
        public void Dispose() => _network.Dispose();
    }

    static float[] Weights(ILanguageModel m) => m.Module.parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray();

    MixtureSampler Data()
    {
        var path = _tmp.Combine("d.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, 30).Select(i => JsonSerializer.Serialize(new { id = $"d{i}", text = "abcabcabcabd" })));
        var file = TokenFileBuilder.Build([path], new LetterTokenizer(), _tmp.Combine("tok"));
        return new MixtureSampler([new("d", file, PackingMode.Documents, 1)], 16, LetterTokenizer.Eos, LetterTokenizer.Pad, 7);
    }

    [Fact]
    public void A_second_architecture_trains_resumes_bit_identically_checkpoints_and_generates_through_the_shared_functions()
    {
        var options = new TrainerOptions { SequenceLength = 16, MicroBatch = 2, LogEvery = 1, CheckpointEvery = 4, KeepLast = 2, PeakFlops = 1e9 };
        StageResult Train(BigramModel model, string dir, long steps, Ziya2.Events.IEventBus? events = null, CancellationToken ct = default)
        {
            using var optimizer = new AdamWFactory(new AdamWOptions { Lr = 0.1, WeightDecay = 0 }).Create(((ILanguageModel)model).GetParameterGroups());
            var schedule = new CosineWithWarmup(new CosineOptions { Lr = 0.1, MinLr = 0.01, WarmupSteps = 1 });
            return new Trainer(model, optimizer, schedule, options, new CheckpointStore(Path.Combine(dir, "checkpoints"), 2), "cfg", events).Run(new StageSpec("general", Data(), steps), ct);
        }

        using var straight = new BigramModel(29);
        var result = Train(straight, _tmp.Combine("straight"), 12);
        Assert.True(result.LastLoss < result.FirstLoss - 0.5, $"{result.FirstLoss} → {result.LastLoss}");

        // Interrupted after a checkpoint, resumed by a fresh model: the same weights, bit for bit.
        using (var cts = new CancellationTokenSource())
        using (var partial = new BigramModel(29))
        {
            var at = 0;
            var bus = new Ziya2.Events.EventBus();
            bus.Subscribe(e => { if (e.Name == Ziya2.Events.RunEvents.Checkpoint && ++at == 1) cts.Cancel(); });
            Assert.True(Train(partial, _tmp.Combine("resumed"), 12, bus, cts.Token).Interrupted);
        }
        using var resumed = new BigramModel(29, seed: 99);   // other initial weights: everything comes from the checkpoint
        Assert.True(Train(resumed, _tmp.Combine("resumed"), 12).Resumed);
        Assert.Equal(Weights(straight), Weights(resumed));

        // Hugging Face checkpoint IO, written once for every model: round trip, and a config of another shape refused untouched.
        HuggingFaceCheckpoint.Save(straight, _tmp.Combine("hf"));
        Assert.Equal("bigram", JsonDocument.Parse(File.ReadAllText(_tmp.Combine("hf", "config.json"))).RootElement.GetProperty("model_type").GetString());
        using var loaded = new BigramModel(29, seed: 5);
        HuggingFaceCheckpoint.Load(loaded, _tmp.Combine("hf"));
        Assert.Equal(Weights(straight), Weights(loaded));
        using var wider = new BigramModel(31, seed: 5);
        var before = Weights(wider);
        var e = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.Load(wider, _tmp.Combine("hf")));
        Assert.Contains("vocab_size 29, this model has 31", e.Message);
        Assert.Equal(before, Weights(wider));

        // Generation over the plain forward (no KV cache here): the trained bigram continues "abc" with the pattern it saw.
        var abc = new LetterTokenizer().Encode("abc").Select(i => (long)i).ToList();
        var generated = TextGeneration.Generate(loaded, abc, new GenerationOptions { MaxNewTokens = 6 });
        Assert.Equal("abcabc", new LetterTokenizer().Decode(generated.Select(i => (int)i).ToList()));

        // Only the formats it offers: Hugging Face always, GGUF not (the LLaMA plugin adds that one).
        Assert.Equal(["hf"], ModelExport.Formats(loaded));
        var refused = Assert.Throws<ArgumentException>(() => ModelExport.Write(loaded, "gguf", _tmp.Combine("x.gguf"), "f32"));
        Assert.Contains("unknown export format 'gguf' for bigram; use hf", refused.Message);
    }

    [Fact]
    public void Generation_with_the_kv_cache_equals_generation_over_the_plain_forward()
    {
        using var llama = new LlamaModel(new LlamaOptions
        {
            VocabSize = 29, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2, MaxPositionEmbeddings = 64, Seed = 3,
        });
        Assert.Equal(["hf", "gguf"], ModelExport.Formats(llama));
        var options = new GenerationOptions { MaxNewTokens = 20 };
        var cached = TextGeneration.Generate(llama, [5, 6, 7, 8], options);
        var plain = TextGeneration.Generate(new WithoutCache(llama), [5, 6, 7, 8], options);
        Assert.Equal(20, cached.Count);
        Assert.Equal(cached, plain);
    }

    /// <summary>The same model seen only through the narrow contract (its <see cref="IIncrementalDecoder"/> hidden).</summary>
    sealed class WithoutCache(ILanguageModel inner) : ILanguageModel
    {
        public string Architecture => inner.Architecture;
        public nn.Module<Tensor, Tensor> Module => inner.Module;
        public string ConfigJson => inner.ConfigJson;
        public int VocabSize => inner.VocabSize;
        public int MaxSequenceLength => inner.MaxSequenceLength;
        public Tensor Forward(Tensor ids, Tensor? documentIds = null) => inner.Forward(ids, documentIds);
        public double TrainingFlopsPerToken(int sequenceLength) => inner.TrainingFlopsPerToken(sequenceLength);
        public IReadOnlyList<(string Name, Tensor Weight)> NamedWeights => inner.NamedWeights;
        public void CheckConfig(string configJson, string origin) => inner.CheckConfig(configJson, origin);
        public void ExtendVocabulary(int newVocabSize, IReadOnlyList<VocabularyRowInit> rows) => inner.ExtendVocabulary(newVocabSize, rows);
        public void Dispose() { }
    }

    public void Dispose() => _tmp.Dispose();
}
