using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Options of <see cref="CharRunsRule"/>.</summary>
public sealed class CharRunsOptions : PartRemovalOptions
{
    public CharRunsOptions() { Unit = TextUnit.Sentence; MinRemaining = 0.5; }
    /// <summary>A character repeated this many times in a row marks the unit as noise ("!!!!!!!!!!", "哈哈哈哈哈哈哈哈").</summary>
    public int MaxRun { get; set; } = 8;
}

/// <summary>Removes sentences with long runs of one character (spam, keyboard noise, laughter), except whitespace and code-like runs of '-', '=', '_' in lines of their own.</summary>
public sealed class CharRunsRule(CharRunsOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d) => PartRemoval.Apply(d, o, "char_runs", part =>
    {
        var trimmed = part.Trim();
        if (trimmed.Length > 0 && trimmed.All(c => c is '-' or '=' or '_' or '*' or '#')) return false;   // separators, Markdown rules
        int run = 1;
        for (int i = 1; i < part.Length; i++)
        {
            run = part[i] == part[i - 1] && !char.IsWhiteSpace(part[i]) ? run + 1 : 1;
            if (run >= o.MaxRun) return true;
        }
        return false;
    });
}
