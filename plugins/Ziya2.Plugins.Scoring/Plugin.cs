using Ziya2;
using Ziya2.Plugins;

[assembly: Ziya2Plugin(Ziya2Sdk.Version)]

namespace Ziya2.Plugins.Scoring;

/// <summary>Automatic scoring (paper §2.1 AS): KenLM-style n-gram perplexity, ranked into quality buckets per language.</summary>
public sealed class ScoringPlugin : IZiya2Plugin
{
    public void Register(IPluginRegistrar registrar) => registrar
        .AddDataFilter<PerplexityBucketFilter, PerplexityOptions>("perplexity",
            "N-gram (ARPA) perplexity per language; ranks the corpus into high / medium / low buckets and drops low");
}
