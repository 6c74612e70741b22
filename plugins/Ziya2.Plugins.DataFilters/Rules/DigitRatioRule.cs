using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Drops documents whose non-space characters are more than <c>threshold</c> digits (<c>too_many_digits</c>): tables, price lists, logs.</summary>
public sealed class DigitRatioRule(DigitRatioOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        var c = TextMetrics.Composition(d.Text);
        return c.NonSpace > 0 && (double)c.Digits / c.NonSpace > o.Threshold ? FilterDecision.Drop("too_many_digits") : FilterDecision.Keep();
    }
}
