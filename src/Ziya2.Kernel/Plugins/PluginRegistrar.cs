using System.Text.RegularExpressions;
using Ziya2.Plugins;

namespace Ziya2.Kernel.Plugins;

/// <summary>Collects and checks one plugin's declarations.</summary>
sealed partial class PluginRegistrar(PluginInfo plugin) : IPluginRegistrar
{
    public List<ComponentDescriptor> Components { get; } = [];

    public void Add(ComponentKind kind, string name, Type implementationType, Type optionsType, string description)
    {
        ArgumentNullException.ThrowIfNull(kind);
        if (!NamePattern().IsMatch(name ?? ""))
            throw new ArgumentException($"component name '{name}' must be lower-case letters, digits, '.', '_' or '-'");
        if (!kind.ServiceType.IsAssignableFrom(implementationType) || implementationType.IsAbstract || !implementationType.IsClass)
            throw new ArgumentException($"{kind} '{name}': {implementationType.FullName} must be a concrete class implementing {kind.ServiceType.FullName}");
        if (optionsType.GetConstructor(Type.EmptyTypes) is null)
            throw new ArgumentException($"{kind} '{name}': options type {optionsType.FullName} needs a public parameterless constructor");
        if (Components.Any(c => c.Kind == kind && c.Name == name))
            throw new ArgumentException($"{kind} '{name}' is declared twice by the same plugin");
        Components.Add(new ComponentDescriptor(kind, name!, implementationType, optionsType, description ?? "", plugin));
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$")]
    private static partial Regex NamePattern();
}
