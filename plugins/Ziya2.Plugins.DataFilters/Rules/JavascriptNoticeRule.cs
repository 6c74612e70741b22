using System.Text.RegularExpressions;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Options of <see cref="JavascriptNoticeRule"/>; lines only.</summary>
public sealed class JavascriptNoticeOptions : PartRemovalOptions { public JavascriptNoticeOptions() { Unit = TextUnit.Line; MinRemaining = 0.3; } }

/// <summary>C4: removes lines about enabling JavaScript or cookies (en/zh browser notices) (<c>browser_notices</c> when little remains).</summary>
public sealed partial class JavascriptNoticeRule(JavascriptNoticeOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d) => PartRemoval.Apply(d, o, "browser_notices", line => Notice().IsMatch(line));

    [GeneratedRegex(@"javascript|enable cookies|your browser|启用\s*JavaScript|浏览器不支持|请升级浏览器", RegexOptions.IgnoreCase)] private static partial Regex Notice();
}
