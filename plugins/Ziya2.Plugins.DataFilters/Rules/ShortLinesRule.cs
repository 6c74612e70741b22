using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

public sealed class ShortLinesOptions : ThresholdOptions { public ShortLinesOptions() => Threshold = 0.67; public int MaxShortChars { get; set; } = 30; }

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
