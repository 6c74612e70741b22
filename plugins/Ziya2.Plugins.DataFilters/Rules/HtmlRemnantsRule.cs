using System.Text.RegularExpressions;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Drops documents with more than <c>threshold</c> HTML tags or entities per 1,000 characters (<c>html_remnants</c>): failed extraction.</summary>
public sealed partial class HtmlRemnantsRule(HtmlRemnantsOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        int length = Math.Max(1, TextMetrics.Length(d.Text));
        int remnants = Tag().Count(d.Text) + Entity().Count(d.Text);
        return remnants * 1000.0 / length > o.Threshold ? FilterDecision.Drop("html_remnants") : FilterDecision.Keep();
    }

    // Known HTML element names only, so generics in code (std::vector<int>, List<T>) are not taken for markup.
    [GeneratedRegex(@"</?(a|abbr|article|b|body|br|button|center|div|em|font|footer|form|h[1-6]|head|header|hr|html|i|iframe|img|input|label|li|link|meta|nav|noscript|ol|option|p|script|section|select|span|strong|style|table|tbody|td|th|thead|title|tr|u|ul)(\s[^<>]{0,200})?/?>", RegexOptions.IgnoreCase)]
    private static partial Regex Tag();
    [GeneratedRegex(@"&(#\d{1,6}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")] private static partial Regex Entity();
}
