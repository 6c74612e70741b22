using System.Globalization;
using System.Text;

namespace Ziya2.Tokenization;

/// <summary>A tokenizer that can be written out with extra pieces (Ziya2 §3.2's vocabulary extension).</summary>
public interface IVocabularyExtender : ITokenizer
{
    /// <summary>
    /// Writes this tokenizer with <paramref name="newPieces"/> appended (new ids follow the existing ones) into
    /// <paramref name="directory"/>, in the tokenizer's own format plus Hugging Face tokenizer files, and returns it loaded.
    /// </summary>
    ITokenizer SaveExtended(IReadOnlyList<string> newPieces, string directory);

    /// <summary>
    /// The ids this tokenizer gives <paramref name="piece"/> in running text (without a leading word boundary):
    /// the embedding rows a new piece is initialised from.
    /// </summary>
    IReadOnlyList<int> SplitForInitialization(string piece);
}

/// <summary>Picks the characters to add to a vocabulary: the most frequent ones of given Unicode ranges it lacks.</summary>
public static class VocabularyExtension
{
    /// <summary>CJK Unified Ideographs, Extension A and Compatibility Ideographs: simplified and traditional Han.</summary>
    public static IReadOnlyList<(int First, int Last)> CjkRanges { get; } = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xF900, 0xFAFF)];

    /// <summary>Parses <c>4E00-9FFF,3400-4DBF</c>.</summary>
    public static IReadOnlyList<(int First, int Last)> ParseRanges(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(r =>
        {
            var parts = r.Split('-');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var a)
                || !int.TryParse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b) || a > b)
                throw new FormatException($"'{r}' is not a hex code point range like 4E00-9FFF");
            return (a, b);
        }).ToList();

    /// <summary>
    /// Counts the characters of <paramref name="ranges"/> in <paramref name="texts"/> and returns the
    /// <paramref name="count"/> most frequent that are not already single pieces of <paramref name="vocabulary"/>,
    /// most frequent first, ties by code point — deterministic for the same input.
    /// </summary>
    public static IReadOnlyList<(string Character, long Count)> SelectCharacters(TokenizerVocabulary vocabulary, IEnumerable<string> texts, int count, IReadOnlyList<(int First, int Last)> ranges)
    {
        var existing = new HashSet<string>(vocabulary.Pieces, StringComparer.Ordinal);
        var counts = new Dictionary<int, long>();
        foreach (var text in texts)
            foreach (var rune in text.EnumerateRunes())
                if (ranges.Any(r => rune.Value >= r.First && rune.Value <= r.Last))
                    counts[rune.Value] = counts.GetValueOrDefault(rune.Value) + 1;
        return counts.Where(kv => !existing.Contains(char.ConvertFromUtf32(kv.Key)))
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Take(count)
            .Select(kv => (char.ConvertFromUtf32(kv.Key), kv.Value)).ToList();
    }

    /// <summary>
    /// How the model's new embedding rows start (Ziya2 §3.2: the mean of the rows the base tokenizer splits each new
    /// piece into). <paramref name="weighting"/>: <c>uniform</c> (plain mean), <c>bytes</c> (weighted by each base
    /// piece's UTF-8 length), <c>first-out</c> (uniform input rows; the LM-head row copies the first base piece's).
    /// </summary>
    public static IReadOnlyList<Models.VocabularyRowInit> InitialRows(IVocabularyExtender baseTokenizer, IReadOnlyList<string> added, string weighting = "uniform")
    {
        if (weighting is not ("uniform" or "bytes" or "first-out")) throw new ArgumentException($"unknown weighting '{weighting}'; use uniform, bytes or first-out");
        int first = baseTokenizer.VocabSize;
        return added.Select((piece, i) =>
        {
            var sources = baseTokenizer.SplitForInitialization(piece);
            var weights = weighting == "bytes" ? sources.Select(id => (double)Math.Max(1, PieceBytes(baseTokenizer.Vocabulary, id))).ToList() : null;
            var output = weighting == "first-out" ? sources.Select((_, k) => k == 0 ? 1.0 : 0.0).ToList() : null;
            return new Models.VocabularyRowInit(first + i, sources, weights, output);
        }).ToList();
    }

    /// <summary>
    /// The characters of <paramref name="characters"/> that are traditional: those a Traditional→Simplified converter
    /// (the data factory's <c>t2s</c> filter, OpenCC's tables) changes when it sees them alone. The rest are simplified or
    /// shared by both scripts. Ziya2 §3.2 adds "simplified and traditional" characters; this says how many of each.
    /// </summary>
    public static IReadOnlyList<string> Traditional(IEnumerable<string> characters, Data.IDataFilter traditionalToSimplified) =>
        characters.Where(c => traditionalToSimplified.Apply(new Data.Document("char", c)) is { Action: Data.FilterAction.Rewrite, Document: { } d } && d.Text != c).ToList();

    /// <summary>Rows a model needs for <paramref name="pieces"/> ids, rounded up to a multiple (Ziya2: 128, giving 39,424).</summary>
    public static int PaddedRows(int pieces, int multiple) => multiple > 1 ? (pieces + multiple - 1) / multiple * multiple : pieces;

    static int PieceBytes(TokenizerVocabulary v, int id) =>
        v.Types[id] == TokenType.Byte ? 1 : Encoding.UTF8.GetByteCount(v.Pieces[id].Replace('\u2581', ' '));

    /// <summary>Lines of UTF-8 text files, streamed.</summary>
    public static IEnumerable<string> ReadLines(IEnumerable<string> files) => files.SelectMany(f => File.ReadLines(f, Encoding.UTF8));
}
