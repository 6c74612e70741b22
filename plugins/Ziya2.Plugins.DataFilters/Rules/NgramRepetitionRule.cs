using Ziya2.Configuration;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Options of <see cref="NgramRepetitionRule"/> (Gopher: top 2/3/4-gram character shares ≤ 0.20/0.18/0.16).</summary>
public sealed class NgramRepetitionOptions : IValidatableOptions
{
    public double MaxTop2 { get; set; } = 0.20;
    public double MaxTop3 { get; set; } = 0.18;
    public double MaxTop4 { get; set; } = 0.16;

    public IEnumerable<string> Validate() { if (new[] { MaxTop2, MaxTop3, MaxTop4 }.Any(x => x is < 0 or > 1)) yield return "shares must be within [0, 1]"; }
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
