using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Drops documents longer than <c>threshold</c> characters (<c>too_long</c>): dumps, logs, concatenated pages.</summary>
public sealed class MaxLengthRule(MaxLengthOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d) => TextMetrics.Length(d.Text) > o.Threshold ? FilterDecision.Drop("too_long") : FilterDecision.Keep();
}
