using Ziya2;
using Ziya2.Plugins;

[assembly: Ziya2Plugin(Ziya2Sdk.Version)]

namespace Ziya2.Plugins.Dedup;

/// <summary>Content deduplication (paper §2.1 CD), in the paper's order: URL, exact content, SimHash near duplicates.</summary>
public sealed class DedupPlugin : IZiya2Plugin
{
    public void Register(IPluginRegistrar registrar) => registrar
        .AddDataFilter<DedupFilter, DedupOptions>("dedup",
            "URL Bloom filter, then exact-content Bloom filter, then 64-bit SimHash near duplicates; incremental through a persistent index");
}
