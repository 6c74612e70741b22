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
        // Units become small integer ids so an n-gram is a number, not a joined string per position; Chinese characters
        // go straight from the text to ids (no string per character).
        var ids = new List<int>();
        var lengths = new List<int>();
        long total = 0;
        if (TextMetrics.IsMostlyChinese(d.Text))
        {
            var byRune = new Dictionary<int, int>();
            foreach (var r in d.Text.EnumerateRunes())
            {
                if (System.Text.Rune.IsWhiteSpace(r)) continue;
                ids.Add(byRune.TryGetValue(r.Value, out var id) ? id : byRune[r.Value] = byRune.Count);
                lengths.Add(r.Utf16SequenceLength);
                total += r.Utf16SequenceLength;
            }
        }
        else
        {
            var byWord = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var w in TextMetrics.Words(d.Text))
            {
                ids.Add(byWord.TryGetValue(w, out var id) ? id : byWord[w] = byWord.Count);
                lengths.Add(w.Length);
                total += w.Length;
            }
        }
        if (ids.Count < 10 || total == 0) return FilterDecision.Keep();
        var seq = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids);
        int distinct = 0;
        foreach (var id in seq) distinct = Math.Max(distinct, id + 1);
        foreach (var (n, max) in new[] { (2, o.MaxTop2), (3, o.MaxTop3), (4, o.MaxTop4) })
        {
            if (seq.Length < n) break;
            // The most frequent n-gram, the first to reach that count in the text when several tie.
            var (count, start) = distinct < 1 << 16 ? Top(seq, n, Packed) : Top(seq, n, Tuple);
            if (count < 2) continue;
            long span = 0;
            for (int k = start; k < start + n; k++) span += lengths[k];
            if ((double)count * span / total > max) return FilterDecision.Drop("repeated_ngrams");
        }
        return FilterDecision.Keep();
    }

    static ulong Packed(ReadOnlySpan<int> s, int i, int n)
    {
        ulong key = 0;
        for (int k = 0; k < n; k++) key = key << 16 | (uint)s[i + k];
        return key;
    }

    static (int, int, int, int) Tuple(ReadOnlySpan<int> s, int i, int n) => (s[i], s[i + 1], n > 2 ? s[i + 2] : -1, n > 3 ? s[i + 3] : -1);

    delegate TKey KeyOf<TKey>(ReadOnlySpan<int> seq, int i, int n);

    static (int Count, int Start) Top<TKey>(ReadOnlySpan<int> seq, int n, KeyOf<TKey> keyOf) where TKey : notnull
    {
        var counts = new Dictionary<TKey, (int Count, int Start)>();
        for (int i = 0; i + n <= seq.Length; i++)
        {
            ref var c = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, keyOf(seq, i, n), out bool existed);
            c = existed ? (c.Count + 1, c.Start) : (1, i);
        }
        // Dictionary order is insertion order here (nothing is removed): the first maximum is the earliest n-gram.
        (int Count, int Start) top = (0, 0);
        foreach (var c in counts.Values) if (c.Count > top.Count) top = c;
        return top;
    }
}
