using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Gopher-style repetition: the share of repeated units and of the characters in them.</summary>
static class Repetition
{
    public static bool TooRepetitive(IReadOnlyList<string> units, RepetitionOptions o)
    {
        if (units.Count < 2) return false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int duplicates = 0; long duplicateChars = 0, totalChars = 0;
        foreach (var u in units)
        {
            totalChars += u.Length;
            if (!seen.Add(u)) { duplicates++; duplicateChars += u.Length; }
        }
        return (double)duplicates / units.Count > o.MaxDuplicateFraction || (double)duplicateChars / Math.Max(1, totalChars) > o.MaxDuplicateCharFraction;
    }
}

/// <summary>Drops documents with too many repeated lines (<c>repeated_lines</c>): boilerplate, spam, scraped templates.</summary>
public sealed class LineRepetitionRule(RepetitionOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d) => Repetition.TooRepetitive(TextMetrics.Lines(d.Text), o) ? FilterDecision.Drop("repeated_lines") : FilterDecision.Keep();
}

/// <summary>Drops documents with too many repeated paragraphs (<c>repeated_paragraphs</c>).</summary>
public sealed class ParagraphRepetitionRule(RepetitionOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d) => Repetition.TooRepetitive(TextMetrics.Paragraphs(d.Text), o) ? FilterDecision.Drop("repeated_paragraphs") : FilterDecision.Keep();
}
