using Ziya2;
using Ziya2.Plugins;

[assembly: Ziya2Plugin(Ziya2Sdk.Version)]

namespace Ziya2.Plugins.DataFilters;

/// <summary>Built-in data filters (paper §2: preprocessing and rule-based filtering).</summary>
public sealed class DataFiltersPlugin : IZiya2Plugin
{
    public void Register(IPluginRegistrar registrar) => registrar
        .AddDataFilter<MinLengthFilter, MinLengthOptions>("min-length", "Drops documents shorter than min_chars characters")
        .AddDataFilter<WhitespaceNormalizer, NoOptions>("normalize-whitespace", "Collapses runs of spaces/tabs, trims lines, limits blank lines to one");
}
