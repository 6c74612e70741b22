using Ziya2;
using Ziya2.Plugins;

[assembly: Ziya2Plugin(Ziya2Sdk.Version)]

namespace Ziya2.Plugins.Schedulers;

/// <summary>Built-in learning-rate schedulers.</summary>
public sealed class SchedulersPlugin : IZiya2Plugin
{
    public void Register(IPluginRegistrar registrar) => registrar
        .AddScheduler<CosineWithWarmup, CosineOptions>("cosine", "Linear warmup, then cosine decay to min_lr (Ziya2: 1% warmup, floor 1e-5)");
}
