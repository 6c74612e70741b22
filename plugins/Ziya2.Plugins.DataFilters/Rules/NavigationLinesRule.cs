using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Options of <see cref="NavigationLinesRule"/>; lines only.</summary>
public sealed class NavigationLinesOptions : PartRemovalOptions
{
    public NavigationLinesOptions() { Unit = TextUnit.Line; MinRemaining = 0.3; }
    /// <summary>A line needs at least this many separators (| » › &gt; · / between spaces) to be judged.</summary>
    public int MinSeparators { get; set; } = 2;
    /// <summary>…and items between separators no longer than this many characters on average.</summary>
    public double MaxMeanItemChars { get; set; } = 12;

    public override IEnumerable<string> Validate()
    {
        foreach (var m in base.Validate()) yield return m;
        if (MinSeparators < 1 || MaxMeanItemChars <= 0) yield return "min_separators must be >= 1 and max_mean_item_chars > 0";
    }
}

/// <summary>
/// Removes navigation lines — menus and breadcrumbs such as <c>Home | News | About</c> or <c>首页 &gt; 新闻 &gt; 国内</c>:
/// several separators with short items between them (<c>navigation</c>; paper §2.1 RF, paragraph level).
/// </summary>
public sealed class NavigationLinesRule(NavigationLinesOptions o) : IDataFilter
{
    static readonly string[] Separators = [" | ", "｜", " » ", "»", " › ", "›", " > ", " >> ", "＞", " · ", " / ", " - ", "丨"];

    public FilterDecision Apply(Document d) => PartRemoval.Apply(d, o, "navigation", IsNavigation);

    bool IsNavigation(string line)
    {
        var items = line.Trim().Split(Separators, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (items.Length < o.MinSeparators + 1) return false;
        return items.Average(TextMetrics.Length) <= o.MaxMeanItemChars;
    }
}
