namespace Ziya2.Plugins;

/// <summary>
/// Receives a plugin's component declarations. Each component has a kind, a name unique within its kind
/// across all loaded plugins, an implementation type, and an options type bound from the recipe's TOML.
/// The implementation is constructed by the kernel's container: its constructor may take the options
/// object and host services such as <c>ILogger&lt;T&gt;</c>, <see cref="Events.IEventBus"/> or <see cref="IRunEnvironment"/>.
/// Models and optimizers are declared with the helpers of <c>Ziya2.Abstractions.Tensors</c>.
/// </summary>
public interface IPluginRegistrar
{
    /// <summary>Declares a component of any kind.</summary>
    /// <param name="kind">The component kind; <paramref name="implementationType"/> must implement its service type.</param>
    /// <param name="name">Lower-case name recipes use, e.g. <c>adamw</c>.</param>
    /// <param name="implementationType">Concrete class the container constructs.</param>
    /// <param name="optionsType">Class with a parameterless constructor, bound from TOML and passed to the constructor.</param>
    /// <param name="description">One line for <c>ziya2 plugins list</c>.</param>
    void Add(ComponentKind kind, string name, Type implementationType, Type optionsType, string description);
}

/// <summary>Typed helpers over <see cref="IPluginRegistrar.Add"/>.</summary>
public static class PluginRegistrarExtensions
{
    /// <summary>Declares a data filter.</summary>
    public static IPluginRegistrar AddDataFilter<TFilter, TOptions>(this IPluginRegistrar r, string name, string description)
        where TFilter : class, Data.IDataFilter where TOptions : class, new()
    { r.Add(ComponentKind.DataFilter, name, typeof(TFilter), typeof(TOptions), description); return r; }

    /// <summary>Declares a learning-rate scheduler.</summary>
    public static IPluginRegistrar AddScheduler<TScheduler, TOptions>(this IPluginRegistrar r, string name, string description)
        where TScheduler : class, Optimization.ILearningRateScheduler where TOptions : class, new()
    { r.Add(ComponentKind.Scheduler, name, typeof(TScheduler), typeof(TOptions), description); return r; }

    /// <summary>Declares a tokenizer.</summary>
    public static IPluginRegistrar AddTokenizer<TTokenizer, TOptions>(this IPluginRegistrar r, string name, string description)
        where TTokenizer : class, Tokenization.ITokenizer where TOptions : class, new()
    { r.Add(ComponentKind.Tokenizer, name, typeof(TTokenizer), typeof(TOptions), description); return r; }
}
