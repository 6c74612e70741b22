using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Options of <see cref="TruncatedSentencesRule"/>; sentences by default.</summary>
public sealed class TruncatedSentencesOptions : PartRemovalOptions
{
    public TruncatedSentencesOptions() { Unit = TextUnit.Sentence; MinRemaining = 0.3; }
    /// <summary>Endings that mark a cut-off sentence or a teaser link (matched case-insensitively at the end of the unit).</summary>
    public List<string> Markers { get; set; } =
        ["...", "…", "[…]", "[...]", "(more)", "read more", "continue reading", "阅读全文", "展开全文", "查看全文", "查看更多", "更多>>", "未完待续", "（未完）"];

    public override IEnumerable<string> Validate()
    {
        foreach (var m in base.Validate()) yield return m;
        if (Markers.Count == 0 || Markers.Any(string.IsNullOrWhiteSpace)) yield return "markers must be non-empty strings";
    }
}

/// <summary>
/// Removes truncated sentences — teasers cut off with an ellipsis, "read more" links, <c>展开全文</c> — and drops the
/// document (<c>truncated</c>) when too little remains (paper §2.1 RF: "truncated or broken sentences").
/// </summary>
public sealed class TruncatedSentencesRule(TruncatedSentencesOptions o) : IDataFilter
{
    readonly string[] _markers = o.Markers.Select(m => m.Trim().ToLowerInvariant()).ToArray();

    public FilterDecision Apply(Document d) => PartRemoval.Apply(d, o, "truncated", part =>
    {
        var t = part.TrimEnd().TrimEnd('>', '»', ')', '）', ']', '】').ToLowerInvariant();
        var full = part.TrimEnd().ToLowerInvariant();
        foreach (var m in _markers)
            if (full.EndsWith(m, StringComparison.Ordinal) || t.EndsWith(m, StringComparison.Ordinal)) return true;
        return false;
    });
}
