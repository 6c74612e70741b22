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
}
