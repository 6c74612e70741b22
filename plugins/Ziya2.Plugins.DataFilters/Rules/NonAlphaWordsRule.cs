using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

public sealed class NonAlphaWordsOptions : ThresholdOptions { public NonAlphaWordsOptions() => Threshold = 0.8; }

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
