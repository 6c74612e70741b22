using Ziya2.Kernel.Plugins;

namespace Ziya2.Cli;

/// <summary>Renders <c>ziya2 plugins list</c>.</summary>
static class PluginListing
{
    public static void Print(PluginCatalog catalog, TextWriter o)
    {
        foreach (var p in catalog.Plugins)
        {
            o.WriteLine($"{p.Name} {p.Version} (SDK {p.SdkVersion})  {p.AssemblyPath}");
            foreach (var c in catalog.Components.Where(c => c.Plugin == p).OrderBy(c => c.Kind.Name).ThenBy(c => c.Name))
                o.WriteLine($"  {c.Kind.Name,-10} {c.Name,-24} {c.Description}");
        }
        foreach (var f in catalog.Failures) o.WriteLine($"FAILED  {f.Path}: {f.Reason}");
        foreach (var c in catalog.Conflicts) o.WriteLine($"CONFLICT  {c}");
    }

    public static object ToJson(PluginCatalog catalog) => new
    {
        plugins = catalog.Plugins.Select(p => new
        {
            name = p.Name, version = p.Version, sdk_version = p.SdkVersion, assembly = p.AssemblyPath,
            components = catalog.Components.Where(c => c.Plugin == p).Select(c => new
            {
                kind = c.Kind.Name, name = c.Name, description = c.Description, type = c.ImplementationType.FullName, options = c.OptionsType.FullName,
            }),
        }),
        failures = catalog.Failures.Select(f => new { path = f.Path, reason = f.Reason }),
        conflicts = catalog.Conflicts.Select(c => new { kind = c.Kind.Name, name = c.Name, plugins = c.Claimants.Select(x => x.Plugin.AssemblyPath) }),
    };
}
