using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Tomlyn;
using Tomlyn.Model;
using Ziya2.Events;
using Ziya2.Kernel.Configuration;
using Ziya2.Kernel.Plugins;
using Ziya2.Kernel.Recipes;
using Ziya2.Plugins;

namespace Ziya2.Kernel.Hosting;

/// <summary>
/// Validates and runs recipes. Both share one preparation that reports every problem at once — config syntax,
/// unknown keys, type errors, missing components, recipe compile errors — before anything runs.
/// </summary>
public sealed class Ziya2Host(ILoggerFactory loggers, TextWriter stdout, TextWriter stderr)
{
    readonly ILogger _log = loggers.CreateLogger("ziya2");

    /// <summary>Plugin roots searched by default: <c>plugins/</c> beside the executable, then <c>$ZIYA2_PLUGIN_PATH</c> entries.</summary>
    public static IReadOnlyList<string> DefaultPluginRoots()
    {
        var roots = new List<string> { Path.Combine(AppContext.BaseDirectory, "plugins") };
        if (Environment.GetEnvironmentVariable("ZIYA2_PLUGIN_PATH") is { Length: > 0 } extra)
            roots.AddRange(extra.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        return roots;
    }

    /// <summary>Everything needed to run, or the list of reasons it cannot.</summary>
    sealed class Prepared : IDisposable
    {
        public List<string> Errors { get; } = [];
        public List<string> Warnings { get; } = [];
        public ConfigTree Tree { get; set; } = new();
        public RecipeConfig Config { get; set; } = null!;
        public PluginCatalog Catalog { get; set; } = null!;
        public CompiledRecipe? Compiled { get; set; }
        public RecipeAssembly? Assembly { get; set; }
        public RunOptions Run { get; set; } = new();
        public void Dispose() => Assembly?.Dispose();
    }

    Prepared Prepare(RunRequest request)
    {
        var p = new Prepared();
        try { p.Tree = ConfigTree.Load(request.ConfigFiles, request.Overrides); }
        catch (ConfigException e) { p.Errors.AddRange(e.Errors.Select(x => "config: " + x)); }
        p.Config = new RecipeConfig(p.Tree);
        var configErrors = new List<ConfigError>();

        var configuredPluginDirs = (string[]?)p.Config.Prebind("plugins.directories", typeof(string[]), configErrors) ?? [];
        p.Catalog = PluginLoader.Load(DefaultPluginRoots().Concat(request.PluginDirectories).Concat(configuredPluginDirs), _log);
        p.Warnings.AddRange(p.Catalog.Failures.Select(f => $"plugin failed to load: {f}"));
        p.Warnings.AddRange(p.Catalog.Conflicts.Select(c => c.ToString()));

        try
        {
            p.Compiled = new RecipeCompiler(request.CacheDirectory ?? RecipeCompiler.DefaultCacheDirectory(), request.Engines).Compile(request.RecipePath);
            p.Warnings.AddRange(p.Compiled.Warnings.Select(w => w.ToString()));
            p.Assembly = new RecipeAssembly(p.Compiled);
        }
        catch (RecipeException e) { p.Errors.AddRange(e.Diagnostics.Select(d => d.ToString())); }

        p.Run = p.Config.Prebind("run", typeof(RunOptions), configErrors) as RunOptions ?? new RunOptions();
        if (p.Compiled is { } compiled)
        {
            var manifest = compiled.Manifest;
            foreach (var wanted in manifest.Components)
            {
                var kind = KnownComponentKinds.Find(wanted.Kind);
                if (kind is null) { p.Errors.Add($"{wanted.Location}: error ZY0100: unknown component kind '{wanted.Kind}'"); continue; }
                if (!p.Catalog.TryGet(kind, wanted.Name, out var descriptor, out var why)) { p.Errors.Add($"{wanted.Location}: error ZY0101: {why}"); continue; }
                p.Config.Prebind(wanted.Section, descriptor!.OptionsType, configErrors);
            }
            foreach (var binding in manifest.Bindings)
            {
                var type = p.Assembly!.FindType(binding);
                if (type is null) { p.Errors.Add($"{binding.Location}: error ZY0102: cannot load type {binding.TypeName} to bind [{binding.Path}]"); continue; }
                p.Config.Prebind(binding.Path, type, configErrors);
            }
            foreach (var pipeline in manifest.Pipelines.DistinctBy(x => x.Name))
            {
                if (p.Tree.Find(PipelineDefinitions.PathOf(pipeline.Name)) is null)
                {
                    var defined = PipelineDefinitions.Names(p.Tree);
                    p.Errors.Add($"{pipeline.Location}: error ZY0103: no pipeline named '{pipeline.Name}' in the configuration " +
                                 $"({(defined.Count == 0 ? "no [pipelines.<name>] at all; include the shared definitions: include = [\"<path>/pipelines/ziya2.toml\"]" : "defined: " + string.Join(", ", defined))})");
                    continue;
                }
                PipelineResolution.Resolve(p.Tree, p.Catalog, pipeline.Name, p.Config.Prebind, configErrors);
            }
            if (manifest.DynamicCalls.Count == 0)
                configErrors.AddRange(p.Tree.UnconsumedLeaves().Select(k => new ConfigError(k, "unknown key: no component or binding in the recipe reads it", p.Tree.OriginOf(k))));
            else
                p.Warnings.AddRange(manifest.DynamicCalls.Select(d => $"{d}: checked at run time only; unknown config keys are not reported"));
        }
        p.Errors.AddRange(configErrors.Select(e => "config: " + e));
        return p;
    }

    void Report(Prepared p)
    {
        foreach (var w in p.Warnings) stderr.WriteLine($"warning: {w}");
        foreach (var e in p.Errors) stderr.WriteLine(e.Contains(": error ", StringComparison.Ordinal) ? e : $"error: {e}");
    }

    /// <summary><c>ziya2 validate</c>: compile, bind, resolve every named component; run nothing.</summary>
    public int Validate(RunRequest request)
    {
        using var p = Prepare(request);
        Report(p);
        if (p.Errors.Count > 0) { stderr.WriteLine($"{p.Errors.Count} problem(s) found; nothing was run."); return ExitCodes.InvalidInput; }
        var m = p.Compiled!.Manifest;
        stdout.WriteLine($"{RecipeDiagnostic.DisplayPath(p.Compiled.Sources.EntryPath)}: OK ({p.Compiled.Sources.Files.Count} source file(s), " +
                         $"{(p.Compiled.FromCache ? "cached" : "compiled")} in {p.Compiled.CompileTime.TotalMilliseconds:F0} ms)");
        foreach (var c in m.Components)
        {
            var d = p.Catalog.Get(KnownComponentKinds.Find(c.Kind)!, c.Name);
            stdout.WriteLine($"  {c.Kind} '{c.Name}' ← {d.Plugin.Name} {d.Plugin.Version}, options [{c.Section}] ({d.OptionsType.Name})");
        }
        foreach (var name in m.Pipelines.Select(x => x.Name).Distinct())
        {
            var steps = PipelineResolution.Resolve(p.Tree, p.Catalog, name, p.Config.Prebind, [])!;
            stdout.WriteLine($"  pipeline '{name}' [{PipelineDefinitions.PathOf(name)}]: {steps.Count} step(s): {string.Join(", ", steps.Select(s => s.Label))}");
        }
        foreach (var b in m.Bindings) stdout.WriteLine($"  config [{b.Path}] → {b.TypeName}");
        return ExitCodes.Ok;
    }

    /// <summary><c>ziya2 run</c>: validate, prepare the run directory, execute the recipe.</summary>
    public async Task<int> RunAsync(RunRequest request, CancellationToken cancellation)
    {
        using var p = Prepare(request);
        Report(p);
        if (p.Errors.Count > 0) { stderr.WriteLine($"{p.Errors.Count} problem(s) found; nothing was run."); return ExitCodes.InvalidInput; }
        var compiled = p.Compiled!;

        // A dry run writes nothing the user keeps: the recipe gets a scratch directory, removed when it returns.
        string? scratch = request.DryRun ? Directory.CreateTempSubdirectory("ziya2-dry-run-").FullName : null;
        try
        {
            RunDirectory runDir;
            try
            {
                var path = scratch ?? (request.Resume ? RunDirectory.ForResume(request.RecipePath, request.RunDirectory, request.ConfigFiles) : request.RunDirectory ?? RunDirectory.DefaultFor(request.RecipePath, request.ConfigFiles));
                runDir = RunDirectory.Prepare(path, request.RecipePath, compiled.Hash, ResolvedConfig(p), request.Force);
            }
            catch (RunDirectoryException e) { stderr.WriteLine($"error: {e.Message}"); return ExitCodes.InvalidInput; }
            return await ExecuteAsync(request, p, compiled, runDir, cancellation);
        }
        finally { if (scratch is not null) try { Directory.Delete(scratch, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } }
    }

    async Task<int> ExecuteAsync(RunRequest request, Prepared p, CompiledRecipe compiled, RunDirectory runDir, CancellationToken cancellation)
    {
        using var runLoggers = Logging.Create(request.LogFormat, request.LogLevel, runDir.LogFile);
        var log = runLoggers.CreateLogger("recipe");
        log.LogInformation("Run directory {RunDir}; recipe {Recipe} ({Hash}, {How} in {Ms:F0} ms); {Plugins} plugin(s), {Components} component(s)",
            runDir.Path, RecipeDiagnostic.DisplayPath(compiled.Sources.EntryPath), compiled.Hash[..12], compiled.FromCache ? "cache hit" : "compiled",
            compiled.CompileTime.TotalMilliseconds, p.Catalog.Plugins.Count, p.Catalog.Usable.Count());

        var events = new EventBus();
        events.Subscribe(new MetricsFile(runDir.MetricsFile));
        var progress = Interactive() ? (IProgressFactory)new SpectreProgressFactory(AnsiConsole.Console) : new PlainProgressFactory(log, TimeSpan.FromSeconds(p.Run.ProgressSeconds));
        using var console = new ConsoleProgress(progress, log);
        events.Subscribe(console);
        var clock = Stopwatch.StartNew();
        HostRecipeGlobals? globals = null;
        try
        {
            var environment = new DeferredEnvironment();
            using var container = new ComponentContainer(p.Catalog, runLoggers, events, environment);
            globals = new HostRecipeGlobals(p.Config, container, events, log, runDir, request.RecipePath, p.Run.Seed, cancellation, request.DryRun);
            environment.Target = globals;
            await p.Assembly!.RunAsync(globals);
            if (cancellation.IsCancellationRequested)
            {
                // The recipe saw the interruption and stopped cleanly (a trainer checkpoints first): a success for a
                // scheduler that preempts jobs (Slurm), and the next identical invocation resumes.
                runDir.WriteStatus("interrupted", request.RecipePath, compiled.Hash, null);
                log.LogWarning("Interrupted after {Seconds:F1} s; the recipe stopped cleanly. Resume with the same command and --run-dir {RunDir} (or --resume)",
                    clock.Elapsed.TotalSeconds, runDir.Path);
                return ExitCodes.Ok;
            }
            runDir.WriteStatus("completed", request.RecipePath, compiled.Hash, null);
            log.LogInformation("Recipe finished in {Seconds:F1} s", clock.Elapsed.TotalSeconds);
            return ExitCodes.Ok;
        }
        catch (Exception e)
        {
            var where = p.Assembly!.LocateInRecipe(e) ?? RecipeDiagnostic.DisplayPath(compiled.Sources.EntryPath);
            var invalid = e is ConfigException or ComponentNotFoundException;
            var cancelled = e is OperationCanceledException && cancellation.IsCancellationRequested;
            var message = cancelled ? "interrupted" : $"{e.GetType().Name}: {e.Message}";
            stderr.WriteLine($"{where}: error: {message}");
            log.LogDebug(e, "Recipe failed");
            runDir.WriteStatus(cancelled ? "interrupted" : "failed", request.RecipePath, compiled.Hash, $"{where}: {message}");
            return invalid ? ExitCodes.InvalidInput : ExitCodes.RunFailed;
        }
    }

    static bool Interactive() =>
        !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
        && !Console.IsOutputRedirected && !Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>The merged configuration with every bound section replaced by its typed value (defaults included).</summary>
    static string ResolvedConfig(Prepared p)
    {
        var resolved = TomlSerializer.Deserialize<TomlTable>(TomlSerializer.Serialize(p.Tree.Root)) ?? new TomlTable();
        foreach (var (path, value) in p.Config.Bound.OrderBy(b => b.Path, StringComparer.Ordinal))
        {
            if (OptionsBinder.ToToml(value) is not { } toml) continue;
            var parts = path.Split('.');
            var table = resolved;
            foreach (var part in parts[..^1])
            {
                if (!table.TryGetValue(part, out var next) || next is not TomlTable t) { t = new TomlTable(); table[part] = t; }
                table = t;
            }
            table[parts[^1]] = toml;
        }
        return TomlSerializer.Serialize(resolved);
    }

    /// <summary>
    /// Builds one component outside a recipe (for commands such as <c>ziya2 model info</c>): options at
    /// <paramref name="section"/> come from <paramref name="overrides"/> (<c>section.key=value</c>). Dispose the
    /// returned lifetime to release the component.
    /// </summary>
    public (object Component, IDisposable Lifetime) CreateComponent(ComponentKind kind, string name, string section, IReadOnlyList<string> overrides, IEnumerable<string> pluginDirectories)
    {
        var session = ComponentSession.Open(loggers, [], overrides, pluginDirectories);
        try
        {
            if (!session.Catalog.TryGet(kind, name, out _, out var why)) throw new ComponentNotFoundException(why!);
            var factory = session.Factory(kind, name, section);
            session.ThrowIfErrors();
            return (factory!(), session);
        }
        catch { session.Dispose(); throw; }
    }

    /// <summary><c>ziya2 plugins list</c>.</summary>
    public PluginCatalog LoadPlugins(IEnumerable<string> extraDirectories) =>
        PluginLoader.Load(DefaultPluginRoots().Concat(extraDirectories), _log);

    /// <summary>Lets the container hand out the environment before the globals that implement it exist.</summary>
    sealed class DeferredEnvironment : IRunEnvironment
    {
        public IRunEnvironment? Target { get; set; }
        IRunEnvironment T => Target ?? throw new InvalidOperationException("run environment not ready");
        public string RunDirectory => T.RunDirectory;
        public long Seed => T.Seed;
        public CancellationToken Cancellation => T.Cancellation;
    }
}
