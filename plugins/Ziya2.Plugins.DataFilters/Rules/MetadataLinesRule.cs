using System.Text.RegularExpressions;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Options of <see cref="MetadataLinesRule"/>; lines only.</summary>
public sealed class MetadataLinesOptions : PartRemovalOptions
{
    public MetadataLinesOptions() { Unit = TextUnit.Line; MinRemaining = 0.3; }
    /// <summary>Extra .NET regular expressions; a line matching any of them (case-insensitively) is removed too.</summary>
    public List<string> ExtraPatterns { get; set; } = [];
    /// <summary>Longer lines are prose that mentions such words, not metadata.</summary>
    public int MaxLineChars { get; set; } = 64;

    public override IEnumerable<string> Validate()
    {
        foreach (var m in base.Validate()) yield return m;
        foreach (var p in ExtraPatterns)
        {
            string? problem = null;
            try { _ = new Regex(p); } catch (ArgumentException e) { problem = $"extra_patterns: '{p}' is not a regular expression: {e.Message}"; }
            if (problem is not null) yield return problem;
        }
    }
}

/// <summary>
/// Removes page metadata lines that news and blog pages wrap around their text: publication time, source, author and
/// editor credits, view and comment counters, share and tag bars (<c>发布时间：</c>, <c>责任编辑：</c>, <c>阅读 1234</c>,
/// <c>Posted on … by</c>, <c>Share this:</c>, <c>Tags:</c>) — <c>metadata</c>.
/// </summary>
public sealed partial class MetadataLinesRule : IDataFilter
{
    readonly MetadataLinesOptions _o;
    readonly Regex[] _extra;

    public MetadataLinesRule(MetadataLinesOptions o)
    {
        _o = o;
        _extra = o.ExtraPatterns.Select(p => new Regex(p, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)).ToArray();
    }

    public FilterDecision Apply(Document d) => PartRemoval.Apply(d, _o, "metadata", line =>
    {
        var t = line.Trim();
        return TextMetrics.Length(t) <= _o.MaxLineChars && (Builtin().IsMatch(t) || _extra.Any(r => r.IsMatch(t)));
    });

    [GeneratedRegex(@"^(发布时间|发表时间|发布日期|更新时间|时间|来源|文章来源|作者|编辑|责任编辑|记者|审核|校对|浏览次数|阅读量|阅读|点击|点击数|评论|分享到|标签|关键词)\s*[:：]?\s*\S*|" +
                    @"^(posted|published|updated)\s+(on|at|by)\b|^(share this|tags|filed under|categories|comments?)\s*[:(（]|^\d+\s+(comments?|views|likes)\b|" +
                    @"^(by\s+[A-Z][a-z]+(\s+[A-Z][a-z]+)?\s*[|·,]?\s*)?(\d{1,2}\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}$|" +
                    @"^\d{4}[-/年.]\d{1,2}[-/月.]\d{1,2}日?(\s+\d{1,2}:\d{2}(:\d{2})?)?$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Builtin();
}
