using Ziya2;
using Ziya2.Plugins;

[assembly: Ziya2Plugin(Ziya2Sdk.Version)]

namespace Ziya2.Plugins.Optimizers;

/// <summary>Built-in optimizers.</summary>
public sealed class OptimizersPlugin : IZiya2Plugin
{
    public void Register(IPluginRegistrar registrar) => registrar
        .AddOptimizer<AdamWFactory, AdamWOptions>("adamw", "AdamW with decoupled weight decay per parameter group (Ziya2: β 0.9/0.95, wd 0.1)")
        .AddOptimizer<LionFactory, LionOptions>("lion", "Lion: sign of interpolated momentum, one state buffer per parameter (half AdamW's memory)");
}
