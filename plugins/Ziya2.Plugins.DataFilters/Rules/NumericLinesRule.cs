using System.Text;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Options of <see cref="NumericLinesRule"/>; lines only.</summary>
public sealed class NumericLinesOptions : PartRemovalOptions
{
    public NumericLinesOptions() { Unit = TextUnit.Line; MinRemaining = 0.3; }
    /// <summary>A line is removed when more than this share of its non-space characters are digits or symbols.</summary>
    public double Threshold { get; set; } = 0.7;
    /// <summary>Lines with fewer non-space characters are left alone (list numbers, short years).</summary>
    public int MinChars { get; set; } = 6;

    public override IEnumerable<string> Validate()
    {
        foreach (var m in base.Validate()) yield return m;
        if (Threshold is < 0 or > 1) yield return "threshold must be within [0, 1]";
    }
}

/// <summary>
/// Removes lines made of numbers and symbols — table rows, scores, stock tickers, phone lists (<c>numeric_lines</c>);
/// the document-level digit-ratio rule catches documents that are nothing else.
/// </summary>
public sealed class NumericLinesRule(NumericLinesOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d) => PartRemoval.Apply(d, o, "numeric_lines", line =>
    {
        int nonSpace = 0, numeric = 0;
        foreach (var r in line.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(r)) continue;
            nonSpace++;
            if (!Rune.IsLetter(r) && !TextMetrics.IsCjk(r.Value)) numeric++;
        }
        return nonSpace >= o.MinChars && (double)numeric / nonSpace > o.Threshold;
    });
}
