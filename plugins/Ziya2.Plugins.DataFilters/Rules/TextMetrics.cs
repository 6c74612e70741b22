using System.Text;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>
/// Shared, Chinese-aware text measures for the rules. "Characters" are Unicode scalar values; Chinese text has no
/// spaces, so word-based English heuristics (Gopher) are paired with character-based Chinese ones.
/// </summary>
static class TextMetrics
{
    public static bool IsCjk(int v) => v is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2FA1F or >= 0xF900 and <= 0xFAFF;

    // The rules of a pipeline run one after another on the same document, and most of them measure the same things:
    // the last text measured on this thread keeps its measures, so the lines, words and counts of a document are
    // computed once for all the rules that leave it unchanged (a rewritten document is a new string, measured anew).
    sealed class Measures
    {
        public IReadOnlyList<string>? Lines, Words, Paragraphs;
        public (int NonSpace, int Cjk, int Letters, int Digits)? Composition;
        public int? Length;
    }

    [ThreadStatic] static string? _measuredText;
    [ThreadStatic] static Measures? _measures;

    static Measures Of(string text)
    {
        if (!ReferenceEquals(_measuredText, text) || _measures is null) (_measuredText, _measures) = (text, new Measures());
        return _measures;
    }

    /// <summary>Non-empty lines, trimmed.</summary>
    public static IReadOnlyList<string> Lines(string text) =>
        Of(text).Lines ??= text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();

    /// <summary>Paragraphs: blocks separated by blank lines, trimmed.</summary>
    public static IReadOnlyList<string> Paragraphs(string text) =>
        Of(text).Paragraphs ??= text.Replace("\r\n", "\n").Split("\n\n").Select(p => p.Trim()).Where(p => p.Length > 0).ToArray();

    /// <summary>Whitespace-separated words with surrounding punctuation stripped (empty ones dropped).</summary>
    public static IReadOnlyList<string> Words(string text) =>
        Of(text).Words ??= text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(w => w.Trim(Punctuation)).Where(w => w.Length > 0).ToArray();

    static readonly char[] Punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”‘’«»…，。！？；：、（）《》「」『』【】".ToCharArray();

    /// <summary>Counts of scalar values: all non-whitespace, CJK ideographs, letters (any script, CJK included), digits.</summary>
    public static (int NonSpace, int Cjk, int Letters, int Digits) Composition(string text) => Of(text).Composition ??= Count(text);

    static (int NonSpace, int Cjk, int Letters, int Digits) Count(string text)
    {
        int nonSpace = 0, cjk = 0, letters = 0, digits = 0;
        foreach (var r in text.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(r)) continue;
            nonSpace++;
            if (IsCjk(r.Value)) { cjk++; letters++; }
            else if (Rune.IsLetter(r)) letters++;
            else if (Rune.IsDigit(r)) digits++;
        }
        return (nonSpace, cjk, letters, digits);
    }

    /// <summary>Mostly Chinese: at least a third of the non-space characters are CJK ideographs.</summary>
    public static bool IsMostlyChinese(string text)
    {
        var c = Composition(text);
        return c.NonSpace > 0 && c.Cjk * 3 >= c.NonSpace;
    }

    /// <summary>Lengths in scalar values, for thresholds stated in characters.</summary>
    public static int Length(string text) => Of(text).Length ??= text.EnumerateRunes().Count();
}
