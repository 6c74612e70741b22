using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>
/// Gopher's symbol-to-word ratio: hash signs and ellipses (<c>#</c>, <c>...</c>, <c>…</c>) per word above
/// <c>threshold</c> drop the document (<c>too_many_symbols</c>). Chinese has no spaces, so its word count is estimated as
/// CJK characters / 1.5 (the mean length of a Chinese word).
/// </summary>
public sealed class SymbolRatioRule(SymbolRatioOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        var text = d.Text;
        int symbols = text.Count(c => c is '#' or '…') + CountOf(text, "...");
        var tokens = TextMetrics.Words(text);
        double words = TextMetrics.IsMostlyChinese(text)
            ? TextMetrics.Composition(text).Cjk / 1.5 + tokens.Count(w => !w.EnumerateRunes().Any(r => TextMetrics.IsCjk(r.Value)))
            : tokens.Count;
        return words > 0 && symbols / words > o.Threshold ? FilterDecision.Drop("too_many_symbols") : FilterDecision.Keep();
    }

    static int CountOf(string text, string s)
    {
        int n = 0;
        for (int i = text.IndexOf(s, StringComparison.Ordinal); i >= 0; i = text.IndexOf(s, i + s.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
