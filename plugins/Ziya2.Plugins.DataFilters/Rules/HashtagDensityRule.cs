using System.Text.RegularExpressions;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

public sealed class HashtagDensityOptions : ThresholdOptions { public HashtagDensityOptions() => Threshold = 0.2; }

/// <summary>
/// Social-media spam: more than <c>threshold</c> of the non-space characters are inside hashtags and @mentions
/// (<c>#tag</c>, Weibo's <c>#话题#</c>, <c>@user</c>) — <c>hashtags</c>. A document needs at least three tags to be judged,
/// so prose that mentions one campaign by its tag is kept.
/// </summary>
public sealed partial class HashtagDensityRule(HashtagDensityOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        int tags = 0, tagged = 0;
        foreach (Match m in Tag().Matches(d.Text)) { tags++; tagged += m.Length; }
        if (tags < 3) return FilterDecision.Keep();
        int nonSpace = d.Text.Count(c => !char.IsWhiteSpace(c));
        return (double)tagged / nonSpace > o.Threshold ? FilterDecision.Drop("hashtags") : FilterDecision.Keep();
    }

    [GeneratedRegex(@"#[^#\s]{1,30}#|(?<![\w@])[#＃][\p{L}\p{N}_]+|(?<![\w.])@[\p{L}\p{N}_]{2,}")]
    private static partial Regex Tag();
}
