using System.Text.Json;
using Ziya2.Plugins.Tests.Llama;
using Ziya2.Plugins.Tokenizers;
using Ziya2.SentencePiece;

namespace Ziya2.Plugins.Tests.Tokenizers;

/// <summary>Ids identical to the real SentencePiece library (expected files written by tests/fixtures/tokenizer/make_fixtures.py).</summary>
public class SentencePieceParityTests
{
    internal static string Dir => Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", "tokenizer");

    internal static (string Text, int[] Ids, string Decoded)[] Expected(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, file)));
        return doc.RootElement.GetProperty("lines").EnumerateArray()
            .Select(l => (l.GetProperty("text").GetString()!, l.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(), l.GetProperty("decoded").GetString()!))
            .ToArray();
    }

    internal static void AssertAllLinesMatch(SentencePieceTokenizer tokenizer, string expectedFile)
    {
        var lines = Expected(expectedFile);
        Assert.True(lines.Length > 900);
        var wrong = lines.Where(l => !tokenizer.Encode(l.Text).SequenceEqual(l.Ids))
            .Select(l => $"'{l.Text}': expected [{string.Join(",", l.Ids)}] got [{string.Join(",", tokenizer.Encode(l.Text))}]").ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count}/{lines.Length} lines differ:\n" + string.Join("\n", wrong.Take(5)));
        var badDecode = lines.Where(l => tokenizer.Decode(l.Ids) != l.Decoded).Select(l => l.Text).ToList();
        Assert.True(badDecode.Count == 0, "decode differs on: " + string.Join(" | ", badDecode.Take(5)));
    }

    [Fact]
    public void Encodes_and_decodes_every_test_line_exactly_as_sentencepiece() =>
        AssertAllLinesMatch(SentencePieceTokenizer.Load(Path.Combine(Dir, "mini.model")), "expected_base.json");

    [Theory]
    [InlineData("mini.model")]
    [InlineData("extended.model")]
    public void The_fast_path_gives_the_reference_encoders_ids_on_any_text(string model)
    {
        var parsed = SentencePieceModel.Load(Path.Combine(Dir, model));
        Assert.True(BpeSegmentEncoder.Applies(parsed));
        var bpe = new SentencePieceBpe(parsed);
        // Pieces of every kind the models know and do not know, glued at random: runs of spaces, digits, Han (in and out
        // of the vocabulary), code punctuation, emoji (surrogate pairs), lone surrogates, accents, tabs.
        var alphabet = Expected("expected_base.json").Select(l => l.Text).Concat(["  ", "   ", "\t", "0123456789", "😀", "👍🏽", "\ud800", "é", "ñ", "{}();", "=>", "__init__", "汉字", "龘", "\u3000", "。", "，"]).ToArray();
        var rng = new Random(7);
        for (int n = 0; n < 3000; n++)
        {
            var text = string.Concat(Enumerable.Range(0, rng.Next(1, 6)).Select(_ =>
            {
                var part = alphabet[rng.Next(alphabet.Length)];
                int from = rng.Next(part.Length), length = rng.Next(0, part.Length - from + 1);
                return part.Substring(from, length) + (rng.Next(3) == 0 ? " " : "");
            }));
            // Twice: the second time the segments come from the cache.
            Assert.Equal(bpe.EncodeReference(text), bpe.Encode(text));
            Assert.Equal(bpe.EncodeReference(text), bpe.Encode(text));
        }
    }

    [Fact]
    public void Special_tokens_follow_the_hf_llama_tokenizer()
    {
        var t = SentencePieceTokenizer.Load(Path.Combine(Dir, "mini.model"));
        Assert.Equal((0, 1, 2, (int?)null), (t.Vocabulary.UnknownId, t.Vocabulary.BosId, t.Vocabulary.EosId, t.Vocabulary.PadId));
        var plain = t.Encode("Hello world");
        Assert.Equal([1, .. plain, 2], t.Encode("Hello world", addBos: true, addEos: true));
        Assert.DoesNotContain(1, t.Encode("<s> text </s>"));          // "<s>" in text is plain text
        Assert.Equal("Hello world", t.Decode([1, .. plain, 2]));       // control tokens decode to nothing
        Assert.Empty(t.Encode(""));
        Assert.Equal([1], t.Encode("", addBos: true));
    }

    [Fact]
    public void Damaged_model_files_are_refused_with_a_reason()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Dir, "mini.model"));
        var e = Assert.Throws<InvalidDataException>(() => SentencePieceModel.Parse(bytes[..(bytes.Length / 3)]));
        Assert.Contains("past the end", e.Message);
        Assert.Throws<InvalidDataException>(() => SentencePieceModel.Parse([0x0a, 0x00]));
    }
}
