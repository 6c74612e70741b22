namespace Ziya2.NGram.Tests;

/// <summary>KenLM's query semantics on a model small enough to check by hand.</summary>
public class ArpaModelTests
{
    internal const string HandModel = """
        \data\
        ngram 1=5
        ngram 2=3
        ngram 3=1

        \1-grams:
        -1.0	<unk>
        -99	<s>	-0.5
        -0.6	</s>
        -0.4	a	-0.3
        -0.5	b	-0.2

        \2-grams:
        -0.2	<s> a	-0.1
        -0.3	a b	-0.25
        -0.7	b </s>

        \3-grams:
        -0.05	<s> a b

        \end\
        """;

    static ArpaModel Hand() => ArpaModel.Read(new StringReader(HandModel), "hand.arpa");

    [Fact]
    public void A_gzipped_model_is_read_and_a_corrupt_one_refused_naming_the_file()
    {
        var dir = Directory.CreateTempSubdirectory("ziya2-arpa-gz-").FullName;
        try
        {
            var ms = new MemoryStream();
            using (var gz = new System.IO.Compression.GZipStream(ms, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
                gz.Write(System.Text.Encoding.UTF8.GetBytes(HandModel + "\n"));
            var good = Path.Combine(dir, "hand.arpa.gz");
            File.WriteAllBytes(good, ms.ToArray());
            Assert.Equal(-0.95, ArpaModel.Load(good).LogProb([Hand().WordId("a"), Hand().WordId("b")], Hand().EosId), 5);
            // bench/fuzz.sh arpa: flipped bytes in the deflate data and the trailer escaped as SharpZipLib's own exceptions.
            foreach (var (at, what) in new[] { (12, "body"), (ms.Length - 6, "crc") })
            {
                var bytes = ms.ToArray();
                bytes[at] ^= 0x5A;
                var bad = Path.Combine(dir, $"bad-{what}.arpa.gz");
                File.WriteAllBytes(bad, bytes);
                var e = Assert.Throws<InvalidDataException>(() => ArpaModel.Load(bad));
                Assert.StartsWith($"{bad}: corrupt gzip stream", e.Message);
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Longest_match_plus_the_backoffs_of_longer_contexts()
    {
        var m = Hand();
        Assert.Equal((3, 5), (m.Order, m.VocabularySize));
        // p(a|<s>) = -0.2 (bigram); p(b|<s> a) = -0.05 (trigram); p(</s>|a b) = bo(a b) -0.25 + p(</s>|b) -0.7.
        Assert.Equal(-0.2 - 0.05 - 0.95, m.Score(["a", "b"]), 5);
        Assert.Equal(-0.95, m.LogProb([m.WordId("a"), m.WordId("b")], m.EosId), 5);
    }

    [Fact]
    public void Missing_contexts_weigh_nothing_and_unknown_words_are_unk()
    {
        var m = Hand();
        Assert.Equal(m.UnknownId, m.WordId("zebra"));
        // p(b|<s>) = bo(<s>) -0.5 + p(b) -0.5;  p(a|<s> b) = [bo(<s> b) absent] + bo(b) -0.2 + p(a) -0.4;
        // p(<unk>|b a) = [bo(b a) absent] + bo(a) -0.3 + p(<unk>) -1.0;  p(</s>|a <unk>) = [absent] + bo(<unk>) 0 + p(</s>) -0.6.
        Assert.Equal(-1.0 - 0.6 - 1.3 - 0.6, m.Score(["b", "a", "zebra"]), 5);
        Assert.Equal(-0.5 - 0.5, m.Score(["b"], bos: true, eos: false), 5);
        Assert.Equal(-0.5, m.Score(["b"], bos: false, eos: false), 5);   // no context: the unigram
    }

    [Fact]
    public void Document_perplexity_is_ccnets()
    {
        var m = Hand();
        var (log10, tokens) = m.ScoreDocument("a b\n\n b  a zebra \n", LmTokenization.Whitespace);
        Assert.Equal((-4.7, 7), (Math.Round(log10, 5), tokens));   // words + one </s> per non-empty line
        Assert.Equal(Math.Pow(10, 4.7 / 7), ArpaModel.Perplexity(log10, tokens), 5);
        Assert.Equal(double.PositiveInfinity, ArpaModel.Perplexity(0, 0));
    }

    [Fact]
    public void A_no_break_space_is_part_of_a_word_in_the_model_and_in_scored_text_as_in_kenlm()
    {
        // lmplz writes web text's U+00A0 inside words; KenLM splits ARPA lines and query text on ASCII whitespace only.
        var model = HandModel.Replace("-0.5\tb\t-0.2", "-0.5\tb\u00A0c\t-0.2").Replace("a b", "a b\u00A0c").Replace("b </s>", "b\u00A0c </s>");
        var m = ArpaModel.Read(new StringReader(model), "nbsp.arpa");
        Assert.NotEqual(m.UnknownId, m.WordId("b\u00A0c"));
        Assert.Equal(m.UnknownId, m.WordId("b"));
        Assert.Equal(-0.2 - 0.05 - 0.95, m.Score(["a", "b\u00A0c"]), 5);                              // the same numbers as "a b"
        var (log10, tokens) = m.ScoreDocument("a b\u00A0c", LmTokenization.Whitespace);
        Assert.Equal((-1.2, 3), (Math.Round(log10, 5), tokens));                                       // two words and </s>, not three
        Assert.Equal(["x\u00A0y", "z"], LmTokenizer.Tokenize("x\u00A0y\tz\v", LmTokenization.Whitespace));
    }

    [Fact]
    public void A_model_without_unk_gives_unknown_words_minus_100()
    {
        var m = ArpaModel.Read(new StringReader(HandModel.Replace("ngram 1=5", "ngram 1=4").Replace("-1.0\t<unk>\n", "")), "nounk.arpa");
        Assert.Equal(-1, m.UnknownId);
        Assert.Equal(-100.0 - 0.3, m.LogProb([m.WordId("a")], m.WordId("zebra")), 4);
    }

    [Theory]
    [InlineData("ngram 2=3", "ngram 2=4", "expected a probability, 2 word(s)")]
    [InlineData("-0.7\tb </s>", "-0.7\tb c", "word 'c' of a 2-gram is not a unigram")]
    [InlineData("-0.3\ta b\t-0.25", "x\ta b", "bad probability 'x'")]
    [InlineData("\\end\\", "", "expected \\end\\")]
    [InlineData("\\data\\", "\\dada\\", "not an ARPA file")]
    public void Malformed_files_are_refused_with_the_line(string from, string to, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => ArpaModel.Read(new StringReader(HandModel.Replace(from, to)), "bad.arpa"));
        Assert.Contains(message, e.Message);
        Assert.Matches(@"^bad\.arpa:\d+: ", e.Message);
    }

    [Fact]
    public void A_truncated_file_is_refused()
    {
        var e = Assert.Throws<InvalidDataException>(() => ArpaModel.Read(new StringReader(HandModel[..HandModel.IndexOf("-0.7\tb </s>")]), "cut.arpa"));
        Assert.Contains("file ends inside the 2-grams (2 of 3 read)", e.Message);
    }

    /// <summary>
    /// A random backoff model of order 4, with or without &lt;unk&gt;, whose n-grams hold their suffixes (as estimated
    /// models do) or need not (ARPA allows it).
    /// </summary>
    static string RandomModel(Random random, bool unk, bool closed)
    {
        string[] words = ["a", "b", "c", "d", "e", "f"];
        var unigrams = new[] { "<s>", "</s>" }.Concat(words).Concat(unk ? ["<unk>"] : []).ToList();
        var orders = new List<List<string>> { unigrams };
        for (int n = 2; n <= 4; n++)
        {
            var grams = new HashSet<string>();
            for (int k = 0; k < 40; k++)
            {
                var gram = Enumerable.Range(0, n).Select(j => j == 0 && random.Next(4) == 0 ? "<s>" : words[random.Next(words.Length)]).ToList();
                if (random.Next(5) == 0) gram[^1] = "</s>";
                grams.Add(string.Join(' ', gram));
            }
            orders.Add([.. grams]);
        }
        for (int n = orders.Count; closed && n >= 3; n--)
            orders[n - 2] = [.. orders[n - 2].Union(orders[n - 1].Select(g => g[(g.IndexOf(' ') + 1)..]))];
        string Number() => (-random.NextDouble() * 2).ToString("F4", System.Globalization.CultureInfo.InvariantCulture);
        var text = new System.Text.StringBuilder("\\data\\\n");
        for (int n = 1; n <= orders.Count; n++) text.Append($"ngram {n}={orders[n - 1].Count}\n");
        for (int n = 1; n <= orders.Count; n++)
        {
            text.Append($"\n\\{n}-grams:\n");
            foreach (var g in orders[n - 1]) text.Append($"{Number()}\t{g}{(n < orders.Count && random.Next(3) > 0 ? "\t" + Number() : "")}\n");
        }
        return text.Append("\n\\end\\\n").ToString();
    }

    [Fact]
    public void A_sentence_scores_the_sum_of_its_words_log_probabilities_bit_for_bit_whether_or_not_the_model_holds_every_suffix()
    {
        // ScoreIds keeps each word's lookups for the next word's contexts and stops at a missing n-gram when the model
        // holds every suffix; LogProb asks the model afresh, longest first.
        var random = new Random(18);
        int open = 0;
        for (int trial = 0; trial < 400; trial++)
        {
            bool closed = trial % 2 == 0;
            var m = ArpaModel.Read(new StringReader(RandomModel(random, unk: trial % 3 != 0, closed)), "random.arpa");
            if (closed) Assert.True(m.HoldsEverySuffix);
            else if (!m.HoldsEverySuffix) open++;
            var tokens = Enumerable.Range(0, random.Next(0, 14)).Select(_ => "abcdefz"[random.Next(7)].ToString()).ToList();
            bool bos = random.Next(4) > 0, eos = random.Next(4) > 0;
            var ids = (bos ? [m.BosId] : new List<int>()).Concat(tokens.Select(m.WordId)).Concat(eos ? [m.EosId] : []).ToArray();
            double expected = 0;
            for (int i = bos ? 1 : 0; i < ids.Length; i++) expected += m.LogProb(ids[Math.Max(0, i - (m.Order - 1))..i], ids[i]);
            Assert.Equal(expected, m.Score(tokens, bos, eos));
            var lines = string.Join('\n', tokens.Chunk(5).Select(c => string.Join(' ', c)));
            double perLine = lines.Split('\n').Where(l => l.Length > 0).Sum(l => m.Score(l.Split(' ')));
            Assert.Equal(perLine, m.ScoreDocument(lines, LmTokenization.Whitespace).Log10, 12);
        }
        Assert.True(open > 150, $"only {open} of 200 models meant to miss suffixes miss one");
    }

    [Fact]
    public void The_binary_form_keeps_whether_the_model_holds_every_suffix_and_version_1_files_still_load()
    {
        var dir = Directory.CreateTempSubdirectory("ziya2-arpa-bin-").FullName;
        try
        {
            var hand = Hand();
            var open = ArpaModel.Read(new StringReader(HandModel.Replace("-0.3\ta b\t-0.25", "-0.3\ta c\t-0.25").Replace("-0.5\tb\t-0.2", "-0.5\tb\t-0.2\n-0.5\tc")
                .Replace("ngram 1=5", "ngram 1=6")), "open.arpa");   // "<s> a b" without "a b"
            Assert.True(hand.HoldsEverySuffix);
            Assert.False(open.HoldsEverySuffix);
            foreach (var (model, name) in new[] { (hand, "hand"), (open, "open") })
            {
                var path = Path.Combine(dir, name + ".bin");
                model.SaveBinary(path);
                var back = ArpaModel.Load(path);
                Assert.Equal(model.HoldsEverySuffix, back.HoldsEverySuffix);
                Assert.Equal(model.Score(["a", "b", "c"]), back.Score(["a", "b", "c"]));
                // Version 1: the same file without the flag byte after the order.
                var bytes = File.ReadAllBytes(path);
                var version1 = Path.Combine(dir, name + ".v1.bin");
                File.WriteAllBytes(version1, [.. "ZIYA2LM1"u8, .. bytes.AsSpan(8, 4), .. bytes.AsSpan(13)]);
                var old = ArpaModel.Load(version1);
                Assert.False(old.HoldsEverySuffix);
                Assert.Equal(model.Score(["a", "b", "c"]), old.Score(["a", "b", "c"]));
                bytes[12] = 7;
                File.WriteAllBytes(path, bytes);
                Assert.Contains("suffix flag 7", Assert.Throws<InvalidDataException>(() => ArpaModel.Load(path)).Message);
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
