using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>
/// Drops documents whose non-space characters are less than <c>threshold</c> letters (any script; Chinese ideographs
/// count as letters) (<c>low_content</c>): symbol soup, ASCII art, encoded blobs. The character-level counterpart of
/// Gopher's "80 % of words contain a letter", which cannot be measured on unsegmented Chinese.
/// </summary>
public sealed class ContentRatioRule(ContentRatioOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        var c = TextMetrics.Composition(d.Text);
        return c.NonSpace > 0 && (double)c.Letters / c.NonSpace < o.Threshold ? FilterDecision.Drop("low_content") : FilterDecision.Keep();
    }
}
