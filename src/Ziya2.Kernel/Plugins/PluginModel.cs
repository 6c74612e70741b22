using Ziya2.Plugins;

namespace Ziya2.Kernel.Plugins;

/// <summary>A plugin assembly that loaded.</summary>
public sealed record PluginInfo(string Name, string AssemblyPath, string Version, string SdkVersion);

/// <summary>A plugin folder that did not load, with the reason.</summary>
public sealed record PluginLoadFailure(string Path, string Reason)
{
    public override string ToString() => $"{Path}: {Reason}";
}

/// <summary>One component a plugin declared.</summary>
public sealed record ComponentDescriptor(ComponentKind Kind, string Name, Type ImplementationType, Type OptionsType, string Description, PluginInfo Plugin);

/// <summary>Two or more plugins claimed the same kind and name; the name is unusable until one is removed.</summary>
public sealed record ComponentConflict(ComponentKind Kind, string Name, IReadOnlyList<ComponentDescriptor> Claimants)
{
    public override string ToString() =>
        $"{Kind} '{Name}' is provided by more than one plugin: {string.Join(" and ", Claimants.Select(c => $"{c.Plugin.Name} ({c.Plugin.AssemblyPath})"))}";
}

/// <summary>A component lookup that failed; the message lists what exists.</summary>
public sealed class ComponentNotFoundException(string message) : Exception(message);
