using Ziya2.Configuration;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Options of a rule with one numeric threshold.</summary>
public class ThresholdOptions : IValidatableOptions
{
    /// <summary>The rule's limit; its meaning is given by each rule.</summary>
    public double Threshold { get; set; }

    public virtual IEnumerable<string> Validate()
    {
        if (double.IsNaN(Threshold) || Threshold < 0) yield return "threshold must be a number >= 0";
    }
}

public sealed class MaxLengthOptions : ThresholdOptions { public MaxLengthOptions() => Threshold = 100_000; }
public sealed class DigitRatioOptions : ThresholdOptions { public DigitRatioOptions() => Threshold = 0.3; }
public sealed class SymbolRatioOptions : ThresholdOptions { public SymbolRatioOptions() => Threshold = 0.1; }
public sealed class BulletLinesOptions : ThresholdOptions { public BulletLinesOptions() => Threshold = 0.9; }
public sealed class EllipsisLinesOptions : ThresholdOptions { public EllipsisLinesOptions() => Threshold = 0.3; }
public sealed class HtmlRemnantsOptions : ThresholdOptions { public HtmlRemnantsOptions() => Threshold = 5; }
public sealed class UrlDensityOptions : ThresholdOptions { public UrlDensityOptions() => Threshold = 0.2; }
public sealed class ContentRatioOptions : ThresholdOptions { public ContentRatioOptions() => Threshold = 0.5; }

/// <summary>Options of the repetition rules (Gopher: duplicate lines ≤ 30 %, their characters ≤ 20 %).</summary>
public sealed class RepetitionOptions : IValidatableOptions
{
    public double MaxDuplicateFraction { get; set; } = 0.3;
    public double MaxDuplicateCharFraction { get; set; } = 0.2;

    public IEnumerable<string> Validate()
    {
        if (MaxDuplicateFraction is < 0 or > 1 || MaxDuplicateCharFraction is < 0 or > 1) yield return "fractions must be within [0, 1]";
    }
}

/// <summary>Options of <see cref="MeanWordLengthRule"/> (Gopher: 3–10).</summary>
public sealed class MeanWordLengthOptions : IValidatableOptions
{
    public double Min { get; set; } = 3;
    public double Max { get; set; } = 10;

    public IEnumerable<string> Validate() { if (Min < 0 || Max < Min) yield return "need 0 <= min <= max"; }
}

/// <summary>Options of <see cref="StopWordsRule"/> (Gopher: at least 2 English stop words).</summary>
public sealed class StopWordsOptions : IValidatableOptions
{
    public int MinEnglish { get; set; } = 2;
    public int MinChinese { get; set; } = 2;

    public IEnumerable<string> Validate() { if (MinEnglish < 0 || MinChinese < 0) yield return "minimums must be >= 0"; }
}
