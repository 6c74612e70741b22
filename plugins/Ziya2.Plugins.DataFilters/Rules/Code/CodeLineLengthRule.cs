using Ziya2.Configuration;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules.Code;

/// <summary>Options of <see cref="CodeLineLengthRule"/> (StarCoder's data filters: mean line ≤ 100, longest ≤ 1,000).</summary>
public sealed class CodeLineLengthOptions : IValidatableOptions
{
    /// <summary>Longest line allowed, in characters.</summary>
    public int MaxLine { get; set; } = 1000;

    /// <summary>Largest mean line length, in characters.</summary>
    public double MaxMeanLine { get; set; } = 100;

    public IEnumerable<string> Validate()
    {
        if (MaxLine < 1 || !(MaxMeanLine > 0)) yield return "max_line must be >= 1 and max_mean_line > 0";
    }
}

/// <summary>
/// Drops minified or data-like source (<c>long_lines</c>): one 20,000-character line of JavaScript, embedded base64,
/// lookup tables. Code people read has short lines.
/// </summary>
public sealed class CodeLineLengthRule(CodeLineLengthOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        var lines = d.Text.Split('\n');
        int longest = lines.Max(l => l.Length);
        double mean = lines.Average(l => l.Length);
        return longest > o.MaxLine || mean > o.MaxMeanLine ? FilterDecision.Drop("long_lines") : FilterDecision.Keep();
    }
}
