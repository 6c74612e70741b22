using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>
/// Gopher's mean word length for non-Chinese documents: outside [<c>min</c>, <c>max</c>] characters per word is not prose
/// (<c>bad_word_length</c>) — hashes, minified code, or one-letter noise. Chinese documents pass (no word boundaries).
/// </summary>
public sealed class MeanWordLengthRule(MeanWordLengthOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        if (TextMetrics.IsMostlyChinese(d.Text)) return FilterDecision.Keep();
        var words = TextMetrics.Words(d.Text);
        if (words.Count == 0) return FilterDecision.Drop("bad_word_length");
        double mean = words.Average(w => (double)w.Length);
        return mean < o.Min || mean > o.Max ? FilterDecision.Drop("bad_word_length") : FilterDecision.Keep();
    }
}
