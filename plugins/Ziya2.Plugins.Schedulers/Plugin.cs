using Ziya2;
using Ziya2.Plugins;

[assembly: Ziya2Plugin(Ziya2Sdk.Version)]

namespace Ziya2.Plugins.Schedulers;

/// <summary>Built-in learning-rate schedulers.</summary>
public sealed class SchedulersPlugin : IZiya2Plugin
{
    public void Register(IPluginRegistrar registrar) => registrar
        .AddScheduler<CosineWithWarmup, CosineOptions>("cosine", "Linear warmup, then cosine decay to min_lr (Ziya2: 1% warmup, floor 1e-5)")
        .AddScheduler<LinearWithWarmup, LinearOptions>("linear", "Linear warmup, then linear decay to min_lr")
        .AddScheduler<ConstantWithWarmup, ConstantOptions>("constant", "Optional linear warmup, then a constant rate")
        .AddScheduler<WarmupStableDecay, WsdOptions>("wsd", "Warmup, stable, then a short decay to min_lr over the last decay_fraction");
}
