using Microsoft.Extensions.Logging;
using Ziya2.Kernel.Configuration;
using Ziya2.Kernel.Plugins;
using Ziya2.Data;
using Ziya2.Events;
using Ziya2.Plugins;

namespace Ziya2.Kernel.Hosting;

/// <summary>
/// Components outside a recipe (CLI commands such as <c>ziya2 data run</c> or <c>ziya2 model info</c>): configuration
/// from files and overrides, plugins, and factories for named components. Binding problems are collected in
/// <see cref="Errors"/> so a command can report all of them before doing anything.
/// </summary>
public sealed class ComponentSession : IDisposable
{
    readonly ComponentContainer _container;
    readonly List<ConfigError> _errors = [];
    readonly OptionsBinder _binder;

    ComponentSession(ConfigTree tree, PluginCatalog catalog, ComponentContainer container)
    {
        Tree = tree; Catalog = catalog; _container = container; _binder = new OptionsBinder(tree);
    }

    public ConfigTree Tree { get; }
    public PluginCatalog Catalog { get; }
    public IReadOnlyList<ConfigError> Errors => _errors;

    /// <summary>
    /// Opens a session; throws <see cref="ConfigException"/> for unreadable configuration. Plugins come from the default
    /// roots, <paramref name="pluginDirectories"/> and the configuration's <c>[plugins] directories</c>, as for recipes.
    /// </summary>
    public static ComponentSession Open(ILoggerFactory loggers, IEnumerable<string> configFiles, IReadOnlyList<string> overrides, IEnumerable<string> pluginDirectories)
    {
        var tree = ConfigTree.Load(configFiles, overrides);
        var errors = new List<ConfigError>();
        var configured = (string[]?)new OptionsBinder(tree).Bind(typeof(string[]), "plugins.directories", errors) ?? [];
        if (errors.Count > 0) throw new ConfigException(errors);
        var catalog = PluginLoader.Load(Ziya2Host.DefaultPluginRoots().Concat(pluginDirectories).Concat(configured), loggers.CreateLogger("ziya2"));
        return new ComponentSession(tree, catalog, new ComponentContainer(catalog, loggers, new EventBus(), new CommandEnvironment()));
    }

    /// <summary>Binds <paramref name="path"/> to <typeparamref name="T"/>; problems go to <see cref="Errors"/>.</summary>
    public T Bind<T>(string path) where T : new() => (T?)_binder.Bind(typeof(T), path, _errors) ?? new T();

    /// <summary>
    /// Binds the options of component <paramref name="name"/> at <paramref name="section"/> once and returns a factory
    /// that constructs a new instance per call (problems go to <see cref="Errors"/>; the factory is null then).
    /// </summary>
    public Func<object>? Factory(ComponentKind kind, string name, string section)
    {
        if (!Catalog.TryGet(kind, name, out var descriptor, out var why)) { _errors.Add(new ConfigError(section, why!)); return null; }
        int before = _errors.Count;
        var options = _binder.Bind(descriptor!.OptionsType, section, _errors);
        if (_errors.Count > before || options is null) return null;
        return () => _container.Resolve(kind, name, options);
    }

    /// <summary>
    /// The steps of pipeline <paramref name="name"/> (<c>[pipelines.&lt;name&gt;]</c>), checked as <c>ziya2 validate</c>
    /// checks a recipe's; problems go to <see cref="Errors"/> (null then).
    /// </summary>
    public IReadOnlyList<ResolvedPipelineStep>? Pipeline(string name) =>
        PipelineResolution.Resolve(Tree, Catalog, name, (path, type, errors) => _binder.Bind(type, path, errors), _errors);

    /// <summary>A runnable step: a new filter instance per call.</summary>
    public PipelineStep Step(ResolvedPipelineStep step) => step.Runnable(_container);

    /// <summary>Adds an error for every configuration key nothing bound.</summary>
    public void ReportUnknownKeys() =>
        _errors.AddRange(Tree.UnconsumedLeaves().Select(k => new ConfigError(k, "unknown key: nothing reads it", Tree.OriginOf(k))));

    public void ThrowIfErrors()
    {
        if (_errors.Count > 0) throw new ConfigException(_errors.ToList());
    }

    public void Dispose() => _container.Dispose();

    sealed class CommandEnvironment : IRunEnvironment
    {
        public string RunDirectory => Environment.CurrentDirectory;
        public long Seed => new RunOptions().Seed;
        public CancellationToken Cancellation => CancellationToken.None;
    }
}
