using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Options of <see cref="TerminalPunctuationRule"/>; lines only.</summary>
public sealed class TerminalPunctuationOptions : PartRemovalOptions
{
    public TerminalPunctuationOptions() { Unit = TextUnit.Line; MinRemaining = 0.3; }
    /// <summary>Lines shorter than this many characters are judged; longer ones are kept whatever their ending (wrapped prose).</summary>
    public int MaxJudgedLength { get; set; } = 200;
}

/// <summary>
/// C4's rule, Chinese-aware: removes lines that do not end in terminal punctuation (. ! ? " ' 。！？… 」』”’）) — menus,
/// titles, buttons, truncated or broken sentences — and drops the document (<c>no_sentences</c>) when too little remains.
/// </summary>
public sealed class TerminalPunctuationRule(TerminalPunctuationOptions o) : IDataFilter
{
    const string Terminal = ".!?\"'。！？…」』”’）):：;；";

    public FilterDecision Apply(Document d) => PartRemoval.Apply(d, o, "no_sentences", line =>
    {
        var t = line.Trim();
        return t.Length < o.MaxJudgedLength && !Terminal.Contains(t[^1]);
    });
}
