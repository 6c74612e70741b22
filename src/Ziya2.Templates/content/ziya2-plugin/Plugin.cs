using Ziya2;
using Ziya2.Plugins;

// The SDK version this plugin is compiled against; the host refuses it when incompatible, naming both versions.
[assembly: Ziya2Plugin(Ziya2Sdk.Version)]

namespace MyZiya2Plugin;

/// <summary>Declares this assembly's components. Keep it cheap: components are built later, when a recipe asks.</summary>
public sealed class Plugin : IZiya2Plugin
{
    /// <inheritdoc/>
    public void Register(IPluginRegistrar registrar) =>
#if (kind == "filter")
        registrar.AddDataFilter<ComponentFilter, ComponentFilterOptions>("my-component", "Drops documents that contain any of the configured phrases");
#elif (kind == "model")
        registrar.AddModel<ComponentModel, ComponentModelOptions>("my-component", "A bigram language model: next-token logits from the current token");
#elif (kind == "optimizer")
        registrar.AddOptimizer<ComponentOptimizerFactory, ComponentOptimizerOptions>("my-component", "SGD with momentum and decoupled weight decay");
#else
        registrar.AddScheduler<ComponentScheduler, ComponentSchedulerOptions>("my-component", "Linear warmup, then linear decay to min_lr");
#endif
}
