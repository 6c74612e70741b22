using Ziya2.Plugins;

namespace Ziya2.Kernel.Hosting;

/// <summary>Every component kind the SDK assemblies define, by name (recipe manifests name kinds as strings).</summary>
public static class KnownComponentKinds
{
    public static IReadOnlyList<ComponentKind> All { get; } = [.. ComponentKind.All, .. TensorComponentKinds.All];

    public static ComponentKind? Find(string name) => All.FirstOrDefault(k => k.Name == name);
}
