namespace Ziya2.Kernel.Recipes;

/// <summary>A call in the recipe that resolves a component by a constant name.</summary>
public sealed record ComponentRequest(string Kind, string Name, string Section, string Location);

/// <summary>A call in the recipe that binds configuration at a constant path to a type.</summary>
/// <param name="Path">Dotted config path.</param>
/// <param name="TypeName">Metadata name of the type (nested types with '+').</param>
/// <param name="AssemblyName">Simple assembly name, or null for a type declared in the recipe itself.</param>
/// <param name="Location">file:line:col of the call.</param>
public sealed record ConfigBinding(string Path, string TypeName, string? AssemblyName, string Location);

/// <summary>A call in the recipe that reads a pipeline definition by a constant name.</summary>
public sealed record PipelineRequest(string Name, string Location);

/// <summary>What static analysis found in a compiled recipe; stored with the cached assembly.</summary>
public sealed record RecipeManifest(
    IReadOnlyList<ComponentRequest> Components,
    IReadOnlyList<ConfigBinding> Bindings,
    IReadOnlyList<PipelineRequest> Pipelines,
    IReadOnlyList<string> DynamicCalls);
