using Ziya2;
using Ziya2.Plugins;

[assembly: Ziya2Plugin(Ziya2Sdk.Version)]

namespace Ziya2.Plugins.DataFilters;

/// <summary>Built-in data filters (paper §2: preprocessing and rule-based filtering).</summary>
public sealed class DataFiltersPlugin : IZiya2Plugin
{
    public void Register(IPluginRegistrar registrar) => registrar
        .AddDataFilter<MinLengthFilter, MinLengthOptions>("min-length", "Drops documents shorter than min_chars characters")
        .AddDataFilter<WhitespaceNormalizer, NoOptions>("normalize-whitespace", "Collapses runs of spaces/tabs, trims lines, limits blank lines to one")
        .AddDataFilter<TextNormalizer, TextNormalizerOptions>("normalize-text", "Unicode NFC, full-width alphanumerics to ASCII, one newline convention, plain spaces")
        .AddDataFilter<InvisibleAndEmojiRemover, InvisibleAndEmojiRemoverOptions>("remove-invisible", "Removes control/format/private-use characters and emoji")
        .AddDataFilter<TraditionalToSimplified, TraditionalToSimplifiedOptions>("t2s", "Traditional to Simplified Chinese, identical to OpenCC t2s");
}
