using System.Text.Json;

namespace Ziya2.NGram.Tests;

/// <summary>The estimator's ARPA, read back by the scorer: proper distributions, lmplz's count rules, determinism.</summary>
public class KneserNeyTrainerTests
{
    static readonly string[] Corpus =
    [
        "the cat sat on the mat", "the dog sat on the log", "a cat and a dog met on the mat", "the cat saw the dog",
        "on the mat the cat slept", "the dog slept on the log", "a bird sat on the cat", "the bird saw a dog and a cat",
        "the cat and the dog sat", "a dog saw the bird on the log", "the mat was on the log", "a cat sat",
    ];

    static (ArpaModel Model, TrainingSummary Summary, string Arpa) Train(int order, IEnumerable<string> lines, LmTokenization mode = LmTokenization.Whitespace)
    {
        var trainer = new KneserNeyTrainer(order);
        foreach (var l in lines) trainer.AddText(l, mode);
        var text = new StringWriter();
        var summary = trainer.Write(text);
        return (ArpaModel.Read(new StringReader(text.ToString()), "trained.arpa"), summary, text.ToString());
    }

    [Fact]
    public void The_binary_form_scores_as_the_arpa_does_and_a_damaged_one_is_refused()
    {
        var (m, _, arpa) = Train(4, Corpus);
        var dir = Directory.CreateTempSubdirectory("ziya2-lm-").FullName;
        try
        {
            var text = Path.Combine(dir, "m.arpa");
            File.WriteAllText(text, arpa);
            var binary = Path.Combine(dir, "m.bin");
            ArpaModel.Load(text).SaveBinary(binary);
            var back = ArpaModel.Load(binary);
            Assert.Equal(m.Counts, back.Counts);
            Assert.Equal(m.VocabularySize, back.VocabularySize);
            foreach (var line in Corpus.Append("an unseen dog and a zebra on the log").Append(""))
                Assert.Equal(m.ScoreDocument(line, LmTokenization.Whitespace), back.ScoreDocument(line, LmTokenization.Whitespace));

            var bytes = File.ReadAllBytes(binary);
            var cut = Path.Combine(dir, "cut.bin");
            foreach (var length in new[] { 9, 40, bytes.Length / 2, bytes.Length - 1 })
            {
                File.WriteAllBytes(cut, bytes[..length]);
                var e = Assert.Throws<InvalidDataException>(() => ArpaModel.Load(cut));
                Assert.StartsWith(cut + ":", e.Message);
            }
            File.WriteAllBytes(cut, [.. bytes, 0]);
            Assert.Contains("bytes after the last table", Assert.Throws<InvalidDataException>(() => ArpaModel.Load(cut)).Message);
            var wrongOrder = (byte[])bytes.Clone();
            BitConverter.TryWriteBytes(wrongOrder.AsSpan(8), 99);   // the order, after the 8-byte magic
            File.WriteAllBytes(cut, wrongOrder);
            Assert.Contains("order 99 is not one this program writes", Assert.Throws<InvalidDataException>(() => ArpaModel.Load(cut)).Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    // The split written out the plain way: KenLM's spaces; or runes (a lone surrogate read as U+FFFD), CJK ones alone.
    static List<string> ReferenceTokens(string line, LmTokenization mode)
    {
        if (mode == LmTokenization.Whitespace) return [.. line.Split([' ', '\t', '\n', '\r', '\f', '\v'], StringSplitOptions.RemoveEmptyEntries)];
        var tokens = new List<string>();
        var word = new System.Text.StringBuilder();
        void Flush() { if (word.Length > 0) { tokens.Add(word.ToString()); word.Clear(); } }
        foreach (var r in line.EnumerateRunes())
        {
            bool cjk = r.Value is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2FA1F or >= 0xF900 and <= 0xFAFF or >= 0x3000 and <= 0x303F or >= 0xFF00 and <= 0xFFEF;
            if (System.Text.Rune.IsWhiteSpace(r)) Flush();
            else if (cjk) { Flush(); tokens.Add(r.ToString()); }
            else word.Append(r.ToString());
        }
        Flush();
        return tokens;
    }

    [Theory]
    [InlineData(LmTokenization.Whitespace)]
    [InlineData(LmTokenization.Characters)]
    public void Documents_score_as_their_lines_token_strings_do(LmTokenization mode)
    {
        // ScoreDocument goes from text straight to ids; the definition is Score over each line's token strings.
        string[] corpus = ["镇上的老磨坊 mill wheel", "the cat sat 在 河边", "小红从小路 walked home", "猫 cat\u00a0dog 狗"];
        var (m, _, _) = Train(3, corpus, mode);
        var rng = new Random(11);
        string[] pieces = ["镇", "上", "的", "老", "cat", "sat", " ", "  ", "\t", "\n", "\r", "\u00a0", "狗", "𠀀", "\ud800", "。", "mill", "x"];
        for (int n = 0; n < 500; n++)
        {
            var text = string.Concat(Enumerable.Range(0, rng.Next(0, 30)).Select(_ => pieces[rng.Next(pieces.Length)]));
            foreach (var line in text.Split('\n')) Assert.Equal(ReferenceTokens(line, mode), LmTokenizer.Tokenize(line, mode));
            double expected = 0; int tokens = 0;
            foreach (var line in text.Split('\n'))
            {
                var words = LmTokenizer.Tokenize(line, mode);
                if (words.Count == 0) continue;
                expected += m.Score(words); tokens += words.Count + 1;
            }
            var (log10, counted) = m.ScoreDocument(text, mode);
            Assert.Equal(tokens, counted);
            Assert.Equal(expected, log10);   // the same terms in the same order: equal to the bit
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Every_context_gives_a_probability_distribution_over_the_vocabulary(int order)
    {
        var (m, summary, _) = Train(order, Corpus);
        var words = Corpus.SelectMany(l => l.Split(' ')).Distinct().Append("</s>").Append("<unk>").ToList();
        Assert.Equal(words.Count + 1, summary.Vocabulary);   // + <s>
        string[][] contexts = [[], ["<s>"], ["the"], ["<s>", "the"], ["the", "cat"], ["on", "the"], ["zebra"], ["sat", "on", "the"], ["bird", "the"], ["<s>", "a", "dog"]];
        foreach (var context in contexts)
        {
            var ids = context.Select(w => w == "<s>" ? m.BosId : m.WordId(w)).ToArray();
            double total = words.Sum(w => Math.Pow(10, m.LogProb(ids, m.WordId(w))));
            Assert.True(Math.Abs(total - 1) < 1e-5, $"order {order}, context [{string.Join(' ', context)}]: sum {total}");
        }
    }

    [Fact]
    public void Lower_orders_use_continuation_counts_except_after_the_sentence_start()
    {
        var (_, _, arpa) = Train(2, ["a b", "c b", "a b"]);
        // Unigram adjusted counts: b is preceded by 2 distinct words (a, c) → 2; a and c only follow <s> → 1 each;
        // </s> follows only b → 1. Total 5 → with too few counts for estimated discounts, lmplz's fallback applies.
        var m = ArpaModel.Read(new StringReader(arpa), "x");
        double d1 = 0.5, d2 = 1.0;
        double gamma0 = (3 * d1 + 1 * d2) / 5;   // three words seen once, one seen twice
        int v = 5;                                // <unk> a b c </s>
        Assert.Equal(Math.Log10((2 - d2) / 5.0 + gamma0 / v), m.LogProb([], m.WordId("b")), 6);
        Assert.Equal(Math.Log10(gamma0 / v), m.LogProb([], m.UnknownId), 6);
        // The bigram <s> a keeps its raw count 2 (nothing precedes <s>): p(a|<s>) = (2 - D2)/3 + γ(<s>) p(a).
        double gammaBos = (1 * d1 + 1 * d2) / 3, pa = (1 - d1) / 5.0 + gamma0 / v;
        Assert.Equal(Math.Log10((2 - d2) / 3.0 + gammaBos * pa), m.LogProb([m.BosId], m.WordId("a")), 6);
    }

    [Fact]
    public void Training_is_deterministic_and_fits_its_corpus_better_than_shuffled_text()
    {
        var a = Train(3, Corpus);
        var b = Train(3, Corpus);
        Assert.Equal(a.Arpa, b.Arpa);
        var seen = a.Model.ScoreDocument("the cat sat on the mat", LmTokenization.Whitespace);
        var shuffled = a.Model.ScoreDocument("mat the on sat cat the", LmTokenization.Whitespace);
        Assert.True(ArpaModel.Perplexity(seen.Log10, seen.Tokens) < ArpaModel.Perplexity(shuffled.Log10, shuffled.Tokens) / 3);
    }

    [Fact]
    public void Characters_tokenisation_splits_ideographs_and_keeps_latin_words()
    {
        Assert.Equal(["我", "爱", "NLP", "模", "型", "，", "ok"], LmTokenizer.Tokenize("我爱NLP模型，ok", LmTokenization.Characters));
        var (m, _, _) = Train(3, ["我们爱学习", "我们爱读书", "他们爱学习"], LmTokenization.Characters);
        var good = m.ScoreDocument("我们爱学习", LmTokenization.Characters);
        var bad = m.ScoreDocument("习学爱们我", LmTokenization.Characters);
        Assert.True(good.Log10 > bad.Log10);
    }

    [Fact]
    public void Reserved_tokens_and_bad_orders_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new KneserNeyTrainer(6));
        Assert.Throws<ArgumentException>(() => new KneserNeyTrainer(3).AddSentence(["a", "<s>"]));
        Assert.Throws<InvalidOperationException>(() => new KneserNeyTrainer(3).Write(new StringWriter()));
    }
}

/// <summary>SentencePiece pieces as n-gram tokens (CCNet's tokenisation), through the same tokenizer for training and scoring.</summary>
public class SentencePieceTokenizationTests
{
    static string Fixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Ziya2.Framework.sln"))) return Path.Combine(dir.FullName, "tests", "fixtures", "tokenizer", name);
        throw new FileNotFoundException(name);
    }

    [Fact]
    public void Pieces_train_and_score_consistently()
    {
        var tokenizer = LmTokenizer.Create(LmTokenization.SentencePiece, Fixture("mini.model"));
        var pieces = tokenizer.Tokenize("Hello world");
        Assert.StartsWith("▁", pieces[0]);
        Assert.Equal("Hello world", string.Concat(pieces).Replace('▁', ' ').Trim());
        var trainer = new KneserNeyTrainer(3);
        foreach (var line in File.ReadLines(Fixture("train.txt")).Take(300)) trainer.AddText(line, tokenizer);
        var text = new StringWriter();
        trainer.Write(text);
        var model = ArpaModel.Read(new StringReader(text.ToString()), "sp.arpa");
        var seen = model.ScoreDocument(File.ReadLines(Fixture("train.txt")).First(l => l.Length > 40), tokenizer);
        var scrambled = model.ScoreDocument(string.Concat(File.ReadLines(Fixture("train.txt")).First(l => l.Length > 40).Reverse()), tokenizer);
        Assert.True(ArpaModel.Perplexity(seen.Log10, seen.Tokens) < ArpaModel.Perplexity(scrambled.Log10, scrambled.Tokens));
        Assert.Throws<ArgumentException>(() => LmTokenizer.Create(LmTokenization.SentencePiece));
        Assert.Throws<FileNotFoundException>(() => LmTokenizer.Create(LmTokenization.SentencePiece, "/nope.model"));
    }

    static List<(string Text, List<string> Pieces)> Expected(string file, Func<JsonElement, List<string>> pieces) =>
        [.. JsonDocument.Parse(File.ReadAllText(Fixture(file))).RootElement.GetProperty("lines").EnumerateArray()
            .Select(l => (l.GetProperty("text").GetString()!, pieces(l)))];

    [Fact]
    public void Bpe_pieces_are_sentencepieces_own_ties_included()
    {
        // LLaMA's kind of model (BPE, identity normalization, byte fallback): the exact encoder, whose leftmost tie-break
        // is SentencePiece's; Microsoft.ML.Tokenizers breaks ties rightmost and differs on runs such as "▁▁▁".
        var vocabulary = Ziya2.SentencePiece.SentencePieceModel.Load(Fixture("mini.model")).Pieces;
        var expected = Expected("expected_base.json", l => [.. l.GetProperty("ids").EnumerateArray().Select(id => vocabulary[id.GetInt32()].Piece)]);
        var tokenizer = LmTokenizer.Create(LmTokenization.SentencePiece, Fixture("mini.model"));
        var wrong = expected.Where(e => !tokenizer.Tokenize(e.Text).SequenceEqual(e.Pieces)).Select(e => e.Text).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {expected.Count} lines differ, first: {wrong.FirstOrDefault()}");
        Assert.Contains(expected, e => e.Pieces.Any(p => p.StartsWith("▁▁", StringComparison.Ordinal)));   // the tie cases are in the fixture
    }

    [Fact]
    public void Unigram_pieces_with_nfkc_normalization_are_sentencepieces()
    {
        // CCNet's kind of model (unigram, nmt_nfkc): every line of the fixture, normalizer cases included, as the
        // SentencePiece library cut it (tests/fixtures/tokenizer/make_fixtures.py).
        var expected = Expected("expected_unigram.json", l => [.. l.GetProperty("pieces").EnumerateArray().Select(p => p.GetString()!)]);
        var tokenizer = LmTokenizer.Create(LmTokenization.SentencePiece, Fixture("unigram.model"));
        var wrong = expected.Where(e => !tokenizer.Tokenize(e.Text).SequenceEqual(e.Pieces)).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {expected.Count} lines differ:" + string.Concat(wrong.Take(5).Select(w =>
            $"\n  {w.Text}\n    sentencepiece [{string.Join(" ", w.Pieces)}]\n    ours          [{string.Join(" ", tokenizer.Tokenize(w.Text))}]")));
        Assert.True(expected.Count > 900);
    }
}
