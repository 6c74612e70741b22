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
        int visible = 0, alphanumeric = 0;
        foreach (var c in d.Text)
        {
            if (char.IsWhiteSpace(c)) continue;
            visible++;
            if (char.IsLetterOrDigit(c)) alphanumeric++;
        }
        return visible == 0 || (double)alphanumeric / visible < o.Threshold ? FilterDecision.Drop("low_alphanumeric") : FilterDecision.Keep();
    }
}
