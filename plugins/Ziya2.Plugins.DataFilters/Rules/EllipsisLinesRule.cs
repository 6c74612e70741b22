using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Drops documents where more than <c>threshold</c> of the lines end in an ellipsis (<c>too_many_ellipsis_lines</c>): truncated teasers.</summary>
public sealed class EllipsisLinesRule(EllipsisLinesOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        var lines = TextMetrics.Lines(d.Text);
        if (lines.Count == 0) return FilterDecision.Keep();
        int truncated = lines.Count(l => l.EndsWith("...", StringComparison.Ordinal) || l.EndsWith('…') || l.EndsWith("。。。", StringComparison.Ordinal));
        return (double)truncated / lines.Count > o.Threshold ? FilterDecision.Drop("too_many_ellipsis_lines") : FilterDecision.Keep();
    }
}
