using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>
/// Real running text contains function words: English documents need <c>min_english</c> occurrences of Gopher's stop
/// words (the, be, to, of, and, that, have, with); Chinese documents <c>min_chinese</c> of 的 了 是 在 和 有 不 这 也 就
/// (<c>no_stop_words</c>). Catches keyword lists, titles strung together, and tables.
/// </summary>
public sealed class StopWordsRule(StopWordsOptions o) : IDataFilter
{
    static readonly HashSet<string> English = new(StringComparer.OrdinalIgnoreCase) { "the", "be", "to", "of", "and", "that", "have", "with" };
    const string Chinese = "的了是在和有不这也就";

    public FilterDecision Apply(Document d)
    {
        bool chinese = TextMetrics.IsMostlyChinese(d.Text);
        int count = chinese ? d.Text.Count(c => Chinese.Contains(c)) : TextMetrics.Words(d.Text).Count(English.Contains);
        return count < (chinese ? o.MinChinese : o.MinEnglish) ? FilterDecision.Drop("no_stop_words") : FilterDecision.Keep();
    }
}
