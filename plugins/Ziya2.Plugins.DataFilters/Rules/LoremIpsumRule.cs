using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>C4: drops placeholder text (<c>lorem_ipsum</c>).</summary>
public sealed class LoremIpsumRule : IDataFilter
{
    public FilterDecision Apply(Document d) =>
        d.Text.Contains("lorem ipsum", StringComparison.OrdinalIgnoreCase) ? FilterDecision.Drop("lorem_ipsum") : FilterDecision.Keep();
}
