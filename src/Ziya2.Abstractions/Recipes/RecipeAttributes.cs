namespace Ziya2.Recipes;

/// <summary>
/// Marks a recipe-API method that resolves a component by name. <c>ziya2 validate</c> finds every call to such a
/// method with a constant name and checks, before running, that the component exists and its options bind.
/// </summary>
/// <param name="kind">Component kind name (see <see cref="Plugins.ComponentKind"/>).</param>
/// <param name="defaultSection">Config section used when the call passes none; <c>{name}</c> is replaced by the component name.</param>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RecipeComponentAttribute(string kind, string defaultSection) : Attribute
{
    /// <summary>Component kind name.</summary>
    public string Kind { get; } = kind;

    /// <summary>Default config section template.</summary>
    public string DefaultSection { get; } = defaultSection;

    /// <summary>The section for <paramref name="componentName"/> when the recipe gives none.</summary>
    public string SectionFor(string componentName) => DefaultSection.Replace("{name}", componentName, StringComparison.Ordinal);
}

/// <summary>Marks a recipe-API method that binds configuration at a path given as its first argument.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RecipeConfigBindingAttribute : Attribute;

/// <summary>
/// Marks a recipe-API method that reads a pipeline definition by a name given as its first argument
/// (<c>[pipelines.&lt;name&gt;]</c>). <c>ziya2 validate</c> checks every such call with a constant name before running:
/// the definition exists, each step's data filter is loaded and its options bind.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RecipePipelineAttribute : Attribute;
