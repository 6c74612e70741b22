using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules.Code;

/// <summary>Options of <see cref="CodeAlphanumericRule"/>: the smallest share of letters and digits (StarCoder: 0.25).</summary>
public sealed class CodeAlphanumericOptions : ThresholdOptions { public CodeAlphanumericOptions() => Threshold = 0.25; }

/// <summary>
/// Drops files with too few letters and digits among their characters (<c>low_alphanumeric</c>): ASCII art, hex dumps,
/// data blobs that happen to have a source extension. Whitespace does not count either way.
/// </summary>
public sealed class CodeAlphanumericRule(CodeAlphanumericOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        var c = TextMetrics.Composition(d.Text);   // the counts content-ratio uses for prose, digits counted here too
        return c.NonSpace == 0 || (double)(c.Letters + c.Digits) / c.NonSpace < o.Threshold ? FilterDecision.Drop("low_alphanumeric") : FilterDecision.Keep();
    }
}
