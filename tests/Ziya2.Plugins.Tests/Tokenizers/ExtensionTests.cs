using Ziya2.Models;
using Ziya2.Plugins.Llama;
using Ziya2.Plugins.Optimizers;
using Ziya2.Plugins.Tests.Llama;
using Ziya2.Plugins.Tokenizers;
using Ziya2.Tokenization;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Tests.Tokenizers;

public class ExtensionTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static string Dir => SentencePieceParityTests.Dir;
    static SentencePieceTokenizer Base() => SentencePieceTokenizer.Load(Path.Combine(Dir, "mini.model"));
    static string[] Extra() => File.ReadAllLines(Path.Combine(Dir, "chinese_extra.txt"));

    [Fact]
    public void Extension_is_deterministic_and_reproduces_the_model_sentencepiece_was_checked_on()
    {
        using var tmp = new TempDir();
        var chosen = VocabularyExtension.SelectCharacters(Base().Vocabulary, Extra(), 100, VocabularyExtension.CjkRanges);
        Assert.Equal(100, chosen.Count);
        Assert.All(chosen, c => Assert.DoesNotContain(c.Character, Base().Vocabulary.Pieces));
        Assert.True(chosen.Zip(chosen.Skip(1)).All(p => p.First.Count >= p.Second.Count));
        Base().SaveExtended(chosen.Select(c => c.Character).ToList(), tmp.Path);
        Assert.Equal(File.ReadAllBytes(Path.Combine(Dir, "extended.model")), File.ReadAllBytes(tmp.Combine("tokenizer.model")));
        Assert.True(File.Exists(tmp.Combine("tokenizer_config.json")) && File.Exists(tmp.Combine("special_tokens_map.json")));
    }

    [Fact]
    public void Extended_model_encodes_exactly_as_sentencepiece_does() =>
        SentencePieceParityTests.AssertAllLinesMatch(SentencePieceTokenizer.Load(Path.Combine(Dir, "extended.model")), "expected_extended.json");

    [Fact]
    public void Extension_refuses_pieces_already_present()
    {
        using var tmp = new TempDir();
        Assert.Throws<ArgumentException>(() => Base().SaveExtended(["Hello", "x"], tmp.Path));
        Assert.Throws<ArgumentException>(() => Base().SaveExtended(["龘", "龘"], tmp.Path));
    }

    static LlamaOptions Options(int vocab) => new()
    {
        VocabSize = vocab, HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
        MaxPositionEmbeddings = 512, Seed = 3, TieWordEmbeddings = false,
    };

    [Fact]
    public void New_rows_are_the_mean_of_their_base_pieces_in_both_matrices_and_padding_rows_the_global_mean()
    {
        var tokenizer = Base();
        using var model = new LlamaModel(Options(1200));
        var embed = model.Module.named_parameters().Single(p => p.name == "embed_tokens.weight").parameter.detach().clone();
        var head = model.Module.named_parameters().Single(p => p.name == "lm_head.weight").parameter.detach().clone();
        var sources = tokenizer.SplitForInitialization("龙");
        Assert.Equal(3, sources.Count);                                    // three UTF-8 byte pieces
        model.ExtendVocabulary(1280, [new VocabularyRowInit(1200, sources)]);
        Assert.Equal(1280, model.VocabSize);
        var newEmbed = model.Module.named_parameters().Single(p => p.name == "embed_tokens.weight").parameter;
        var newHead = model.Module.named_parameters().Single(p => p.name == "lm_head.weight").parameter;
        var ids = tensor(sources.Select(i => (long)i).ToArray());
        Assert.True(newEmbed[1200].allclose(embed.index_select(0, ids).mean([0L]), atol: 1e-7));
        Assert.True(newHead[1200].allclose(head.index_select(0, ids).mean([0L]), atol: 1e-7));
        Assert.True(newEmbed[1279].allclose(embed.mean([0L]), atol: 1e-7));
        Assert.True(newEmbed[..1200].allclose(embed, rtol: 0, atol: 0));
    }

    /// <summary>Per-character negative log-likelihood of <paramref name="lines"/>.</summary>
    static double NllPerChar(ILanguageModel model, ITokenizer tokenizer, IEnumerable<string> lines)
    {
        double nll = 0; long chars = 0;
        using var _ = no_grad();
        foreach (var line in lines.Where(l => l.Length > 0))
        {
            using var scope = NewDisposeScope();
            var ids = tensor(tokenizer.Encode(line, addBos: true).Select(i => (long)i).ToArray()).unsqueeze(0);
            var logits = model.Forward(ids[.., ..^1]);
            nll += nn.functional.cross_entropy(logits.reshape(-1, model.VocabSize), ids[.., 1..].reshape(-1), reduction: nn.Reduction.Sum).item<float>();
            chars += line.EnumerateRunes().Count();
        }
        return nll / chars;
    }

    [Fact]
    public void Mean_initialisation_gives_a_lower_loss_than_random_rows()
    {
        var baseTok = Base();
        var extended = SentencePieceTokenizer.Load(Path.Combine(Dir, "extended.model"));
        var train = File.ReadAllLines(Path.Combine(Dir, "chinese_train.txt")).Concat(Extra()).Where(l => l.Length > 0).ToList();
        using var model = new LlamaModel(Options(1200));
        // Train the base model briefly on the Chinese text with the base (byte-fallback) tokenization.
        var stream = train.SelectMany(l => baseTok.Encode(l, addBos: true, addEos: true)).Select(i => (long)i).ToArray();
        var data = tensor(stream);
        using (var optimizer = new AdamWFactory(new AdamWOptions { Lr = 3e-3, WeightDecay = 0 }).Create(((ILanguageModel)model).GetParameterGroups()))
        {
            var rng = new Random(1);
            for (int step = 0; step < 150; step++)
            {
                using var scope = NewDisposeScope();
                var starts = Enumerable.Range(0, 8).Select(_ => (long)rng.Next(stream.Length - 65)).ToArray();
                var x = stack(starts.Select(s => data[TensorIndex.Slice(s, s + 65)]).ToArray());
                optimizer.ZeroGrad();
                nn.functional.cross_entropy(model.Forward(x[.., ..^1]).reshape(-1, 1200), x[.., 1..].reshape(-1)).backward();
                optimizer.Step();
            }
        }
        var probe = Extra();
        double baseLoss = NllPerChar(model, baseTok, probe);
        var rows = Enumerable.Range(1200, 100).Select(id => new VocabularyRowInit(id, baseTok.SplitForInitialization(extended.Vocabulary.Pieces[id]))).ToList();

        using var random = new LlamaModel(Options(1200));
        foreach (var (a, b) in random.Module.parameters().Zip(model.Module.parameters())) using (no_grad()) a.copy_(b);
        random.ExtendVocabulary(1300, rows);
        using (no_grad())
            foreach (var (name, p) in random.Module.named_parameters().Where(p => p.name is "embed_tokens.weight" or "lm_head.weight"))
                p.narrow(0, 1200, 100).copy_(randn(100, 64, generator: new Generator(9)) * 0.02);
        using var firstOut = new LlamaModel(Options(1200));
        foreach (var (a, b) in firstOut.Module.parameters().Zip(model.Module.parameters())) using (no_grad()) a.copy_(b);
        firstOut.ExtendVocabulary(1300, rows.Select(r => r with { OutputWeights = r.SourceIds.Select((_, i) => i == 0 ? 1.0 : 0.0).ToList() }).ToList());
        double firstOutLoss = NllPerChar(firstOut, extended, probe);
        model.ExtendVocabulary(1300, rows);

        double meanLoss = NllPerChar(model, extended, probe), randomLoss = NllPerChar(random, extended, probe);
        output.WriteLine($"nats/char on chinese_extra.txt: base {baseLoss:F3}, extended mean-init {meanLoss:F3}, " +
                         $"mean input + first-piece LM head {firstOutLoss:F3}, random-init {randomLoss:F3}");
        // The new tokens' LM-head rows compete with the byte pieces that stay in the vocabulary, so no linear init
        // reaches the base loss at once; the mean must recover a real part of the gap that random rows leave.
        Assert.True(baseLoss < meanLoss && meanLoss < randomLoss, $"expected base {baseLoss:F3} < mean {meanLoss:F3} < random {randomLoss:F3}");
        Assert.True(randomLoss - meanLoss > 0.2 * (randomLoss - baseLoss), "mean init should close at least a fifth of the random-init gap");
        Assert.True(firstOutLoss < randomLoss);
    }
}
