using System.Text;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>
/// Shared, Chinese-aware text measures for the rules. "Characters" are Unicode scalar values; Chinese text has no
/// spaces, so word-based English heuristics (Gopher) are paired with character-based Chinese ones.
/// </summary>
static class TextMetrics
{
    public static bool IsCjk(int v) => v is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2FA1F or >= 0xF900 and <= 0xFAFF;

    /// <summary>Non-empty lines, trimmed.</summary>
    public static List<string> Lines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();

    /// <summary>Paragraphs: blocks separated by blank lines, trimmed.</summary>
    public static List<string> Paragraphs(string text) =>
        text.Replace("\r\n", "\n").Split("\n\n").Select(p => p.Trim()).Where(p => p.Length > 0).ToList();

    /// <summary>Whitespace-separated words with surrounding punctuation stripped (empty ones dropped).</summary>
    public static List<string> Words(string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(w => w.Trim(Punctuation)).Where(w => w.Length > 0).ToList();

    static readonly char[] Punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”‘’«»…，。！？；：、（）《》「」『』【】".ToCharArray();

    /// <summary>Counts of scalar values: all non-whitespace, CJK ideographs, letters (any script, CJK included), digits.</summary>
    public static (int NonSpace, int Cjk, int Letters, int Digits) Composition(string text)
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
    public static int Length(string text) => text.EnumerateRunes().Count();
}
