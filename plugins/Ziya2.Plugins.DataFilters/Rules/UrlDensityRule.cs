using System.Text.RegularExpressions;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Drops documents whose characters are more than <c>threshold</c> inside URLs (<c>url_dense</c>): link farms, navigation.</summary>
public sealed partial class UrlDensityRule(UrlDensityOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        int inUrls = Url().Matches(d.Text).Sum(m => m.Length);
        return d.Text.Length > 0 && (double)inUrls / d.Text.Length > o.Threshold ? FilterDecision.Drop("url_dense") : FilterDecision.Keep();
    }

    [GeneratedRegex(@"(https?://|www\.)[^\s<>""'，。）」]+", RegexOptions.IgnoreCase)] private static partial Regex Url();
}
