using System.Reflection;
using Microsoft.Extensions.Logging;
using Ziya2.Plugins;
using McMasterLoader = McMaster.NETCore.Plugins.PluginLoader;

namespace Ziya2.Kernel.Plugins;

/// <summary>
/// Discovers plugin folders (<c>DIR/&lt;Name&gt;/&lt;Name&gt;.dll</c>) and loads each in its own load context with
/// McMaster.NETCore.Plugins. The SDK (both assemblies), TorchSharp and Microsoft.Extensions.* are shared with the host so type
/// identity holds; every other dependency is private to the plugin, whatever version the host uses.
/// </summary>
public static class PluginLoader
{
    /// <summary>Folders holding a plugin assembly named like the folder, in a stable order.</summary>
    public static IReadOnlyList<string> Discover(IEnumerable<string> roots)
    {
        var found = new List<string>();
        foreach (var root in roots.Select(Path.GetFullPath).Distinct())
        {
            if (!Directory.Exists(root)) continue;
            foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            {
                var dll = Path.Combine(dir, Path.GetFileName(dir) + ".dll");
                if (File.Exists(dll)) found.Add(dll);
            }
        }
        return found;
    }

    /// <summary>Loads every plugin found under <paramref name="roots"/>. Failures are collected, never thrown.</summary>
    public static PluginCatalog Load(IEnumerable<string> roots, ILogger? log = null)
    {
        var plugins = new List<PluginInfo>();
        var components = new List<ComponentDescriptor>();
        var failures = new List<PluginLoadFailure>();
        var shared = SharedAssemblies();
        foreach (var dll in Discover(roots))
        {
            try
            {
                var (info, declared) = LoadOne(dll, shared);
                plugins.Add(info);
                components.AddRange(declared);
                log?.LogDebug("Loaded plugin {Plugin} {Version} from {Path} ({Count} components)", info.Name, info.Version, dll, declared.Count);
            }
            catch (Exception e)
            {
                var failure = new PluginLoadFailure(dll, Describe(e));
                failures.Add(failure);
                log?.LogWarning("Plugin failed to load: {Failure}", failure.ToString());
            }
        }
        return new PluginCatalog(plugins, components, failures);
    }

    static (PluginInfo, IReadOnlyList<ComponentDescriptor>) LoadOne(string dll, IReadOnlyList<AssemblyName> shared)
    {
        var loader = McMasterLoader.CreateFromAssemblyFile(dll, isUnloadable: false,
            sharedTypes: [typeof(IZiya2Plugin), typeof(Ziya2.Models.ILanguageModel), typeof(TorchSharp.torch), typeof(ILogger)],
            configure: config => { foreach (var a in shared) config.SharedAssemblies.Add(a); });
        var assembly = loader.LoadDefaultAssembly();

        var attribute = assembly.GetCustomAttribute<Ziya2PluginAttribute>()
            ?? throw new PluginLoadException("not a Ziya2 plugin: the assembly has no [assembly: Ziya2Plugin(Ziya2Sdk.Version)] attribute");
        if (!Ziya2Sdk.IsCompatible(attribute.SdkVersion, Ziya2Sdk.Version))
            throw new PluginLoadException($"built against Ziya2 SDK {attribute.SdkVersion}, but this host provides SDK {Ziya2Sdk.Version}; rebuild the plugin against SDK {Ziya2Sdk.Version}");

        var name = attribute.Name ?? assembly.GetName().Name!;
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString() ?? "0.0.0";
        var info = new PluginInfo(name, dll, version.Split('+')[0], attribute.SdkVersion);

        var entryTypes = assembly.GetExportedTypes()
            .Where(t => typeof(IZiya2Plugin).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false } && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal).ToList();
        if (entryTypes.Count == 0)
            throw new PluginLoadException($"no public class implementing {nameof(IZiya2Plugin)} with a parameterless constructor");

        var registrar = new PluginRegistrar(info);
        foreach (var type in entryTypes)
        {
            var entry = (IZiya2Plugin)Activator.CreateInstance(type)!;
            try { entry.Register(registrar); }
            catch (Exception e) { throw new PluginLoadException($"{type.FullName}.Register threw: {Describe(e)}", e); }
        }
        return (info, registrar.Components);
    }

    /// <summary>Microsoft.Extensions.* assemblies the host ships, shared so plugins and host agree on ILogger etc.</summary>
    static IReadOnlyList<AssemblyName> SharedAssemblies()
    {
        var tpa = (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return tpa.Where(p => Path.GetFileName(p).StartsWith("Microsoft.Extensions.", StringComparison.Ordinal))
                  .Select(p => { try { return AssemblyName.GetAssemblyName(p); } catch (BadImageFormatException) { return null; } })
                  .OfType<AssemblyName>().ToList();
    }

    static string Describe(Exception e) => e switch
    {
        PluginLoadException p => p.Message,
        TargetInvocationException { InnerException: { } inner } => Describe(inner),
        TypeInitializationException { InnerException: { } inner } => $"{e.GetType().Name}: {Describe(inner)}",
        ReflectionTypeLoadException r => $"types failed to load: {string.Join("; ", r.LoaderExceptions.OfType<Exception>().Select(x => x.Message).Distinct())}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };
}

/// <summary>A plugin folder was found but could not be used.</summary>
public sealed class PluginLoadException(string message, Exception? inner = null) : Exception(message, inner);
