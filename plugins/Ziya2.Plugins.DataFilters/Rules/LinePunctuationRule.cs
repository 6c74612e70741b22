using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

public sealed class LinePunctuationOptions : ThresholdOptions { public LinePunctuationOptions() => Threshold = 0.12; }

/// <summary>
/// FineWeb's <c>line_punct_thr</c>: fewer than <c>threshold</c> of the lines end in terminal punctuation
/// (<c>line_punctuation</c>) — lists of titles, link farms, tables. Terminal punctuation includes the Chinese
/// 。！？… and closing quotes, so Chinese prose passes as English prose does.
/// </summary>
public sealed class LinePunctuationRule(LinePunctuationOptions o) : IDataFilter
{
    const string Terminal = ".!?\"'。！？…」』”’）)";

    public FilterDecision Apply(Document d)
    {
        var lines = TextMetrics.Lines(d.Text);
        if (lines.Count == 0) return FilterDecision.Keep();
        double share = (double)lines.Count(l => Terminal.Contains(l[^1])) / lines.Count;
        return share < o.Threshold ? FilterDecision.Drop("line_punctuation") : FilterDecision.Keep();
    }
}
