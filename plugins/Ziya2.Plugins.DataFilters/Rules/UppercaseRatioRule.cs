using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

public sealed class UppercaseRatioOptions : ThresholdOptions { public UppercaseRatioOptions() => Threshold = 0.5; }

/// <summary>More than <c>threshold</c> of the Latin letters are capitals (<c>uppercase</c>) — shouting, spam, headings-only pages.</summary>
public sealed class UppercaseRatioRule(UppercaseRatioOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        int letters = 0, upper = 0;
        foreach (var c in d.Text) if (char.IsAsciiLetter(c)) { letters++; if (char.IsAsciiLetterUpper(c)) upper++; }
        return letters >= 20 && (double)upper / letters > o.Threshold ? FilterDecision.Drop("uppercase") : FilterDecision.Keep();
    }
}
