using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Drops documents where more than <c>threshold</c> of the lines start with a bullet (<c>too_many_bullets</c>): menus, link lists.</summary>
public sealed class BulletLinesRule(BulletLinesOptions o) : IDataFilter
{
    static readonly string[] Bullets = ["•", "●", "·", "‣", "◦", "▪", "▶", "►", "■", "□", "○", "◆", "★", "☆", "- ", "* ", "+ ", "> "];

    public FilterDecision Apply(Document d)
    {
        var lines = TextMetrics.Lines(d.Text);
        if (lines.Count == 0) return FilterDecision.Keep();
        int bullets = lines.Count(l => Bullets.Any(b => l.StartsWith(b, StringComparison.Ordinal)));
        return (double)bullets / lines.Count > o.Threshold ? FilterDecision.Drop("too_many_bullets") : FilterDecision.Keep();
    }
}
