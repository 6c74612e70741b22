using System.Text.RegularExpressions;
using Ziya2.Configuration;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

public sealed class NonAlphaWordsOptions : ThresholdOptions { public NonAlphaWordsOptions() => Threshold = 0.8; }
public sealed class ShortLinesOptions : ThresholdOptions { public ShortLinesOptions() => Threshold = 0.67; public int MaxShortChars { get; set; } = 30; }
public sealed class UppercaseRatioOptions : ThresholdOptions { public UppercaseRatioOptions() => Threshold = 0.5; }

/// <summary>Options of <see cref="NgramRepetitionRule"/> (Gopher: top 2/3/4-gram character shares ≤ 0.20/0.18/0.16).</summary>
public sealed class NgramRepetitionOptions : IValidatableOptions
{
    public double MaxTop2 { get; set; } = 0.20;
    public double MaxTop3 { get; set; } = 0.18;
    public double MaxTop4 { get; set; } = 0.16;

    public IEnumerable<string> Validate() { if (new[] { MaxTop2, MaxTop3, MaxTop4 }.Any(x => x is < 0 or > 1)) yield return "shares must be within [0, 1]"; }
}

/// <summary>
/// Gopher: more than <c>threshold</c> of the words contain no letter (<c>non_alpha_words</c>) — tables of numbers,
/// symbol noise. Non-Chinese documents only (Chinese has no word boundaries; see content-ratio).
/// </summary>
public sealed class NonAlphaWordsRule(NonAlphaWordsOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        if (TextMetrics.IsMostlyChinese(d.Text)) return FilterDecision.Keep();
        var words = d.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0) return FilterDecision.Keep();
        double share = (double)words.Count(w => !w.Any(char.IsLetter)) / words.Length;
        return share > o.Threshold ? FilterDecision.Drop("non_alpha_words") : FilterDecision.Keep();
    }
}

/// <summary>FineWeb: more than <c>threshold</c> of the lines are shorter than <c>max_short_chars</c> (<c>short_lines</c>) — lists, menus, tag clouds.</summary>
public sealed class ShortLinesRule(ShortLinesOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        var lines = TextMetrics.Lines(d.Text);
        if (lines.Count < 3) return FilterDecision.Keep();
        double share = (double)lines.Count(l => TextMetrics.Length(l) < o.MaxShortChars) / lines.Count;
        return share > o.Threshold ? FilterDecision.Drop("short_lines") : FilterDecision.Keep();
    }
}

/// <summary>More than <c>threshold</c> of the Latin letters are capitals (<c>uppercase</c>) — shouting, spam, headings-only pages.</summary>
public sealed class UppercaseRatioRule(UppercaseRatioOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        int letters = 0, upper = 0;
        foreach (var c in d.Text) if (char.IsAsciiLetter(c)) { letters++; if (char.IsAsciiLetterUpper(c)) upper++; }
        return letters >= 20 && (double)upper / letters > o.Threshold ? FilterDecision.Drop("uppercase") : FilterDecision.Keep();
    }
}

/// <summary>
/// Gopher's top n-gram repetition, on characters for Chinese (no spaces) and on words otherwise: the characters covered
/// by the single most frequent 2-, 3- or 4-gram may not exceed the configured share (<c>repeated_ngrams</c>).
/// </summary>
public sealed class NgramRepetitionRule(NgramRepetitionOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        bool chinese = TextMetrics.IsMostlyChinese(d.Text);
        var units = chinese ? d.Text.EnumerateRunes().Where(r => !System.Text.Rune.IsWhiteSpace(r)).Select(r => r.ToString()).ToList() : TextMetrics.Words(d.Text);
        long total = units.Sum(u => (long)u.Length);
        if (units.Count < 10 || total == 0) return FilterDecision.Keep();
        // Units become small integer ids so an n-gram is a value-type key, not a joined string per position.
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var seq = units.Select(u => ids.TryGetValue(u, out var id) ? id : ids[u] = ids.Count).ToArray();
        var lengths = units.Select(u => u.Length).ToArray();
        foreach (var (n, max) in new[] { (2, o.MaxTop2), (3, o.MaxTop3), (4, o.MaxTop4) })
        {
            if (seq.Length < n) break;
            var counts = new Dictionary<(int, int, int, int), (int Count, int Start)>();
            for (int i = 0; i + n <= seq.Length; i++)
            {
                var key = (seq[i], seq[i + 1], n > 2 ? seq[i + 2] : -1, n > 3 ? seq[i + 3] : -1);
                counts[key] = counts.TryGetValue(key, out var c) ? (c.Count + 1, c.Start) : (1, i);
            }
            var top = counts.Values.MaxBy(c => c.Count);
            if (top.Count < 2) continue;
            long covered = (long)top.Count * lengths.Skip(top.Start).Take(n).Sum();
            if ((double)covered / total > max) return FilterDecision.Drop("repeated_ngrams");
        }
        return FilterDecision.Keep();
    }
}

/// <summary>C4: drops placeholder text (<c>lorem_ipsum</c>).</summary>
public sealed class LoremIpsumRule : IDataFilter
{
    public FilterDecision Apply(Document d) =>
        d.Text.Contains("lorem ipsum", StringComparison.OrdinalIgnoreCase) ? FilterDecision.Drop("lorem_ipsum") : FilterDecision.Keep();
}

/// <summary>Options of <see cref="JavascriptNoticeRule"/>; lines only.</summary>
public sealed class JavascriptNoticeOptions : PartRemovalOptions { public JavascriptNoticeOptions() { Unit = TextUnit.Line; MinRemaining = 0.3; } }

/// <summary>C4: removes lines about enabling JavaScript or cookies (en/zh browser notices) (<c>browser_notices</c> when little remains).</summary>
public sealed partial class JavascriptNoticeRule(JavascriptNoticeOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d) => PartRemoval.Apply(d, o, "browser_notices", line => Notice().IsMatch(line));

    [GeneratedRegex(@"javascript|enable cookies|your browser|启用\s*JavaScript|浏览器不支持|请升级浏览器", RegexOptions.IgnoreCase)] private static partial Regex Notice();
}

/// <summary>Options of <see cref="CharRunsRule"/>.</summary>
public sealed class CharRunsOptions : PartRemovalOptions
{
    public CharRunsOptions() { Unit = TextUnit.Sentence; MinRemaining = 0.5; }
    /// <summary>A character repeated this many times in a row marks the unit as noise ("!!!!!!!!!!", "哈哈哈哈哈哈哈哈").</summary>
    public int MaxRun { get; set; } = 8;
}

/// <summary>Removes sentences with long runs of one character (spam, keyboard noise, laughter), except whitespace and code-like runs of '-', '=', '_' in lines of their own.</summary>
public sealed class CharRunsRule(CharRunsOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d) => PartRemoval.Apply(d, o, "char_runs", part =>
    {
        var trimmed = part.Trim();
        if (trimmed.Length > 0 && trimmed.All(c => c is '-' or '=' or '_' or '*' or '#')) return false;   // separators, Markdown rules
        int run = 1;
        for (int i = 1; i < part.Length; i++)
        {
            run = part[i] == part[i - 1] && !char.IsWhiteSpace(part[i]) ? run + 1 : 1;
            if (run >= o.MaxRun) return true;
        }
        return false;
    });
}
