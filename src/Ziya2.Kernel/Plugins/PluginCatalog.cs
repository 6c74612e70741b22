using Ziya2.Plugins;

namespace Ziya2.Kernel.Plugins;

/// <summary>Everything plugin loading produced: plugins, their components, failures and name conflicts.</summary>
public sealed class PluginCatalog
{
    readonly Dictionary<(string Kind, string Name), ComponentDescriptor> _byKey = new();
    readonly Dictionary<(string Kind, string Name), ComponentConflict> _conflicts = new();

    public PluginCatalog(IReadOnlyList<PluginInfo> plugins, IReadOnlyList<ComponentDescriptor> components, IReadOnlyList<PluginLoadFailure> failures)
    {
        Plugins = plugins;
        Failures = failures;
        Components = components;
        foreach (var group in components.GroupBy(c => (c.Kind.Name, c.Name)))
        {
            var all = group.ToList();
            if (all.Count == 1) _byKey[group.Key] = all[0];
            else _conflicts[group.Key] = new ComponentConflict(all[0].Kind, group.Key.Item2, all);
        }
    }

    public IReadOnlyList<PluginInfo> Plugins { get; }
    public IReadOnlyList<ComponentDescriptor> Components { get; }
    public IReadOnlyList<PluginLoadFailure> Failures { get; }
    public IReadOnlyCollection<ComponentConflict> Conflicts => _conflicts.Values;

    /// <summary>Components that can be resolved (conflicting names excluded).</summary>
    public IEnumerable<ComponentDescriptor> Usable => _byKey.Values;

    /// <summary>Finds a component or explains precisely why it cannot be had.</summary>
    public ComponentDescriptor Get(ComponentKind kind, string name) =>
        TryGet(kind, name, out var d, out var error) ? d! : throw new ComponentNotFoundException(error!);

    public bool TryGet(ComponentKind kind, string name, out ComponentDescriptor? descriptor, out string? error)
    {
        error = null;
        if (_byKey.TryGetValue((kind.Name, name), out descriptor)) return true;
        if (_conflicts.TryGetValue((kind.Name, name), out var conflict)) { error = conflict.ToString(); return false; }
        var available = _byKey.Values.Where(c => c.Kind == kind).Select(c => c.Name).Order(StringComparer.Ordinal).ToList();
        error = $"no {kind} named '{name}'; available {kind}s: {(available.Count == 0 ? "(none)" : string.Join(", ", available))}";
        if (Failures.Count > 0)
            error += $". {Failures.Count} plugin(s) failed to load and may have provided it: {string.Join("; ", Failures)}";
        return false;
    }
}
