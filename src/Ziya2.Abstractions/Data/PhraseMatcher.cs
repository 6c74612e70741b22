using System.Buffers;

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
    // One scan for all phrases (SearchValues<string> picks Aho–Corasick or Teddy); at each place where some phrase
    // starts, the phrases beginning with that character are checked, longest first.
    readonly SearchValues<string>? _starts;
    readonly Dictionary<char, int[]> _byFirst = [];

    /// <summary>A matcher for <paramref name="phrases"/> (trimmed, lower-cased, empty ones and duplicates dropped).</summary>
    public PhraseMatcher(IEnumerable<string> phrases, bool wholeWords = false)
    {
        WholeWords = wholeWords;
        _phrases = phrases.Select(p => p.Trim().ToLowerInvariant()).Where(p => p.Length > 0).Distinct(StringComparer.Ordinal)
            .Select(p => (p, !wholeWords || p.Any(IsCjk))).ToArray();
        if (_phrases.Length == 0) return;
        _starts = SearchValues.Create(_phrases.Select(p => p.Phrase).ToArray(), StringComparison.Ordinal);
        foreach (var group in Enumerable.Range(0, _phrases.Length).GroupBy(i => _phrases[i].Phrase[0]))
            _byFirst[group.Key] = [.. group];
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

    /// <summary>
    /// As <see cref="Hits"/> on text already lower-cased (<see cref="string.ToLowerInvariant()"/>), so several lists share
    /// one lower-casing. Each phrase counts its non-overlapping occurrences from the left (as repeated
    /// <see cref="string.IndexOf(string, StringComparison)"/> would); different phrases may overlap.
    /// </summary>
    public int HitsInLowered(string lower, int stopAt = int.MaxValue)
    {
        if (_starts is null) return 0;
        int hits = 0;
        int[]? nextFree = null;   // per phrase: where its next occurrence may start
        var text = lower.AsSpan();
        for (int at = 0; at < text.Length;)
        {
            int found = text[at..].IndexOfAny(_starts);
            if (found < 0) break;
            at += found;
            foreach (var k in _byFirst[text[at]])
            {
                var (p, anywhere) = _phrases[k];
                if (!text[at..].StartsWith(p, StringComparison.Ordinal)) continue;
                nextFree ??= new int[_phrases.Length];
                if (at < nextFree[k]) continue;
                nextFree[k] = at + p.Length;
                if ((anywhere || IsWholeWord(lower, at, p.Length)) && ++hits >= stopAt) return hits;
            }
            at++;
        }
        return hits;
    }

    // A phrase edge that is a letter or digit must not continue into one ("13." may follow a space, not "20").
    static bool IsWholeWord(string text, int start, int length) =>
        (!char.IsLetterOrDigit(text[start]) || start == 0 || !char.IsLetterOrDigit(text[start - 1])) &&
        (!char.IsLetterOrDigit(text[start + length - 1]) || start + length == text.Length || !char.IsLetterOrDigit(text[start + length]));

    static bool IsCjk(char c) => c is >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF' or >= '\uF900' and <= '\uFAFF' or >= '\u3040' and <= '\u30FF' or >= '\uAC00' and <= '\uD7AF' || char.IsSurrogate(c);
}
