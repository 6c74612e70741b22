namespace Ziya2.Plugins;

/// <summary>The component kinds whose contracts carry tensors.</summary>
public static class TensorComponentKinds
{
    /// <summary>Language models (<see cref="Models.ILanguageModel"/>).</summary>
    public static ComponentKind Model { get; } = new("model", typeof(Models.ILanguageModel));

    /// <summary>Optimizer factories (<see cref="Optimization.IOptimizerFactory"/>).</summary>
    public static ComponentKind Optimizer { get; } = new("optimizer", typeof(Optimization.IOptimizerFactory));

    /// <summary>The kinds this assembly defines.</summary>
    public static IReadOnlyList<ComponentKind> All { get; } = [Model, Optimizer];
}

/// <summary>Typed helpers over <see cref="IPluginRegistrar.Add"/> for the tensor kinds.</summary>
public static class TensorRegistrarExtensions
{
    /// <summary>Declares a model.</summary>
    public static IPluginRegistrar AddModel<TModel, TOptions>(this IPluginRegistrar r, string name, string description)
        where TModel : class, Models.ILanguageModel where TOptions : class, new()
    { r.Add(TensorComponentKinds.Model, name, typeof(TModel), typeof(TOptions), description); return r; }

    /// <summary>Declares an optimizer factory.</summary>
    public static IPluginRegistrar AddOptimizer<TFactory, TOptions>(this IPluginRegistrar r, string name, string description)
        where TFactory : class, Optimization.IOptimizerFactory where TOptions : class, new()
    { r.Add(TensorComponentKinds.Optimizer, name, typeof(TFactory), typeof(TOptions), description); return r; }
}
