namespace Ziya2.Data;

/// <summary>
/// Finds listed phrases in text, case-insensitively (word lists: advertising, boilerplate, toxic and sensitive words).
/// A phrase with CJK characters is found anywhere, as Chinese has no word boundaries. With <see cref="WholeWords"/>,
/// any other phrase is found only where it is not part of a longer word: the toxic list's <c>ass</c> does not match
/// <c>class</c>, and <c>sex</c> does not match <c>Essex</c>. Data filters and the data evaluation's toxicity measure use
/// the same matcher, so the gate counts what the filter would remove.
/// </summary>
public sealed class PhraseMatcher
{
    readonly (string Phrase, bool Anywhere)[] _phrases;

    /// <summary>A matcher for <paramref name="phrases"/> (trimmed, lower-cased, empty ones and duplicates dropped).</summary>
    public PhraseMatcher(IEnumerable<string> phrases, bool wholeWords = false)
    {
        WholeWords = wholeWords;
        _phrases = phrases.Select(p => p.Trim().ToLowerInvariant()).Where(p => p.Length > 0).Distinct(StringComparer.Ordinal)
            .Select(p => (p, !wholeWords || p.Any(IsCjk))).ToArray();
    }

    /// <summary>Phrases of word-list files: one a line, <c>#</c> starts a comment line.</summary>
    public static PhraseMatcher Load(IEnumerable<string> files, bool wholeWords = false) =>
        new(files.SelectMany(File.ReadLines).Where(l => !l.TrimStart().StartsWith('#')), wholeWords);

    /// <summary>Whether non-CJK phrases must stand as whole words.</summary>
    public bool WholeWords { get; }

    /// <summary>Number of phrases.</summary>
    public int Count => _phrases.Length;

    /// <summary>Occurrences of the phrases in <paramref name="text"/>, counting stopped at <paramref name="stopAt"/>.</summary>
    public int Hits(string text, int stopAt = int.MaxValue) => _phrases.Length == 0 ? 0 : HitsInLowered(text.ToLowerInvariant(), stopAt);

    /// <summary>As <see cref="Hits"/> on text already lower-cased (<see cref="string.ToLowerInvariant()"/>), so several lists share one lower-casing.</summary>
    public int HitsInLowered(string lower, int stopAt = int.MaxValue)
    {
        int hits = 0;
        foreach (var (p, anywhere) in _phrases)
            for (int i = lower.IndexOf(p, StringComparison.Ordinal); i >= 0; i = lower.IndexOf(p, i + p.Length, StringComparison.Ordinal))
                if ((anywhere || IsWholeWord(lower, i, p.Length)) && ++hits >= stopAt) return hits;
        return hits;
    }

    // A phrase edge that is a letter or digit must not continue into one ("13." may follow a space, not "20").
    static bool IsWholeWord(string text, int start, int length) =>
        (!char.IsLetterOrDigit(text[start]) || start == 0 || !char.IsLetterOrDigit(text[start - 1])) &&
        (!char.IsLetterOrDigit(text[start + length - 1]) || start + length == text.Length || !char.IsLetterOrDigit(text[start + length]));

    static bool IsCjk(char c) => c is >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF' or >= '\uF900' and <= '\uFAFF' or >= '\u3040' and <= '\u30FF' or >= '\uAC00' and <= '\uD7AF' || char.IsSurrogate(c);
}
