using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Tomlyn;
using Tomlyn.Model;
using Ziya2.Events;
using Ziya2.Distributed;
using Ziya2.Kernel.Configuration;
using Ziya2.Kernel.Plugins;
using Ziya2.Kernel.Recipes;
using Ziya2.Plugins;

namespace Ziya2.Kernel.Hosting;

/// <summary>
/// Validates and runs recipes. Both share one preparation that reports every problem at once — config syntax,
/// unknown keys, type errors, missing components, recipe compile errors — before anything runs. Started by
/// <c>mpiexec</c> or <c>srun</c> (<paramref name="launch"/>), every rank runs the recipe in the run directory rank 0
/// chooses (<see cref="RunJob"/>).
/// </summary>
public sealed class Ziya2Host(ILoggerFactory loggers, TextWriter stdout, TextWriter stderr, LaunchEnvironment? launch = null)
{
    readonly ILogger _log = loggers.CreateLogger("ziya2");
    readonly RunJob _job = new(launch ?? LaunchEnvironment.Current);

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
        bool configRead = true;
        try { p.Tree = ConfigTree.Load(request.ConfigFiles, request.Overrides); }
        catch (ConfigException e) { p.Errors.AddRange(e.Errors.Select(x => "config: " + x)); configRead = false; }
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

        // A configuration that could not be read has no keys to check: what is missing from it is not news.
        if (!configRead) return p;
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

    void Report(Prepared p, bool warnings = true)
    {
        if (warnings) foreach (var w in p.Warnings) stderr.WriteLine($"warning: {w}");
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
        foreach (var c in m.Components.DistinctBy(c => (c.Kind, c.Name, c.Section)))
        {
            var d = p.Catalog.Get(KnownComponentKinds.Find(c.Kind)!, c.Name);
            stdout.WriteLine($"  {c.Kind} '{c.Name}' ← {d.Plugin.Name} {d.Plugin.Version}, options [{c.Section}] ({d.OptionsType.Name})");
        }
        foreach (var name in m.Pipelines.Select(x => x.Name).Distinct())
        {
            var steps = PipelineResolution.Resolve(p.Tree, p.Catalog, name, p.Config.Prebind, [])!;
            stdout.WriteLine($"  pipeline '{name}' [{PipelineDefinitions.PathOf(name)}]: {steps.Count} step(s): {string.Join(", ", steps.Select(s => s.Label))}");
        }
        foreach (var b in m.Bindings.DistinctBy(b => (b.Path, b.TypeName))) stdout.WriteLine($"  config [{b.Path}] → {DisplayType(b.TypeName)}");
        return ExitCodes.Ok;
    }

    /// <summary>A bound type as a reader knows it: C#'s own names, "X (recipe)" for a recipe's class, "T?" for a nullable.</summary>
    internal static string DisplayType(string typeName)
    {
        var nullable = System.Text.RegularExpressions.Regex.Match(typeName, @"^System\.Nullable`1\[\[([^,\]]+)");
        if (nullable.Success) return DisplayType(nullable.Groups[1].Value) + "?";
        if (System.Text.RegularExpressions.Regex.Match(typeName, @"^Submission#\d+\+(.+)$") is { Success: true } recipe) return $"{recipe.Groups[1].Value.Replace('+', '.')} (recipe)";
        return typeName switch
        {
            "System.String" => "string", "System.Boolean" => "bool", "System.Int32" => "int", "System.Int64" => "long",
            "System.Double" => "double", "System.Single" => "float", "System.String[]" => "string[]",
            _ => typeName.Replace('+', '.'),
        };
    }

    /// <summary><c>ziya2 run</c>: validate, prepare the run directory, execute the recipe.</summary>
    public async Task<int> RunAsync(RunRequest request, CancellationToken cancellation)
    {
        using var p = Prepare(request);
        // Every rank prepared the same inputs; problems are printed once (rank 0's), or by the rank that alone has them.
        var (problems, report) = _job.AgreeOnProblems(p.Errors.Count > 0);
        if (_job.IsMain || report) Report(p, warnings: _job.IsMain);
        if (problems)
        {
            if (report) stderr.WriteLine($"{(_job.IsMain ? "" : $"[{_job.Launch}] ")}{p.Errors.Count} problem(s) found; nothing was run.");
            return ExitCodes.InvalidInput;
        }
        var compiled = p.Compiled!;

        // A dry run writes nothing the user keeps: the recipe gets a scratch directory, removed when it returns; a launch
        // plan it writes (WriteLaunchFile) creates the real run directory, where submitting it runs this plan.
        string? scratch = request.DryRun ? Directory.CreateTempSubdirectory("ziya2-dry-run-").FullName : null;
        try
        {
            var (kind, value) = scratch is not null ? ("ok", scratch) : _job.Agree(() =>
            {
                try
                {
                    var chosen = request.Resume ? RunDirectory.ForResume(request.RecipePath, request.RunDirectory, request.ConfigFiles) : request.RunDirectory ?? RunDirectory.DefaultFor(request.RecipePath, request.ConfigFiles);
                    // The same invocation in a directory where it completed would reproduce what is there: say so instead.
                    if (!request.Force && RunDirectory.IsComplete(chosen, compiled.Hash, ResolvedConfig(p), out var finished))
                        return ("complete", $"{Path.GetFullPath(chosen)} holds this run, completed {finished}; nothing to do (--force runs the recipe again there)");
                    return ("ok", RunDirectory.Prepare(chosen, request.RecipePath, compiled.Hash, ResolvedConfig(p), request.Force).Path);
                }
                catch (RunDirectoryException e) { return ("error", e.Message); }
            });
            if (kind == "complete")
            {
                if (_job.IsMain) stderr.WriteLine(value);
                return ExitCodes.Ok;
            }
            if (kind == "error")
            {
                if (_job.IsMain) stderr.WriteLine($"error: {value}");
                return ExitCodes.InvalidInput;
            }
            var path = value;
            RunDirectory runDir;
            try { runDir = scratch is not null ? RunDirectory.Prepare(scratch, request.RecipePath, compiled.Hash, ResolvedConfig(p), force: true) : RunDirectory.Join(path); }
            catch (RunDirectoryException e) { stderr.WriteLine($"[{_job.Launch}] error: {e.Message}"); return _job.Fail(ExitCodes.InvalidInput, _log); }
            var planned = request.DryRun ? request.RunDirectory ?? RunDirectory.DefaultFor(request.RecipePath, request.ConfigFiles) : runDir.Path;
            return await ExecuteAsync(request, p, compiled, runDir, planned, cancellation);
        }
        finally { if (scratch is not null) try { Directory.Delete(scratch, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } }
    }

    async Task<int> ExecuteAsync(RunRequest request, Prepared p, CompiledRecipe compiled, RunDirectory runDir, string plannedRunDirectory, CancellationToken signal)
    {
        bool main = _job.IsMain;
        // Rank 0 speaks for the job on the console; the others log there only warnings and errors (tagged with their
        // rank), everything into their own log file, and their standard output goes to a file beside it.
        using var runLoggers = Logging.Create(request.LogFormat, request.LogLevel, runDir.RankLogFile(_job.Launch.Rank), consoleLevel: main ? null : LogLevel.Warning, scopes: !main);
        var log = runLoggers.CreateLogger("recipe");
        using var rankScope = main ? null : log.BeginScope(_job.Launch.ToString());   // no properties: nothing to collide with the recipe's own
        var consoleOut = Console.Out;
        using var rankOut = main ? null : new StreamWriter(Path.Combine(runDir.Path, "logs", $"stdout.rank-{_job.Launch.Rank:D5}.txt")) { AutoFlush = true };
        if (rankOut is not null) Console.SetOut(rankOut);
        // One interruption for the whole job: this rank's signal, or another rank's, heard at a collective.
        var cancellation = signal;
        if (!_job.Alone) { JobInterruption.Follow(signal); cancellation = JobInterruption.Token; }
        log.LogInformation("Run directory {RunDir}; recipe {Recipe} ({Hash}, {How} in {Ms:F0} ms); {Plugins} plugin(s), {Components} component(s)",
            runDir.Path, RecipeDiagnostic.DisplayPath(compiled.Sources.EntryPath), compiled.Hash[..12], compiled.FromCache ? "cache hit" : "compiled",
            compiled.CompileTime.TotalMilliseconds, p.Catalog.Plugins.Count, p.Catalog.Usable.Count());
        if (!_job.Alone)
        {
            var threads = _job.ThreadsPerRank();
            if (threads is { } n) TorchSharp.torch.set_num_threads(n);
            log.LogInformation("Data-parallel job: {World} ranks ({Launcher}), {Local} on this node; {Threads} thread(s) per rank{Why}", _job.Launch.WorldSize, _job.Launch.Launcher,
                _job.Launch.LocalWorldSize, TorchSharp.torch.get_num_threads(), threads is null ? "" : " (the node's cores shared out; set OMP_NUM_THREADS to choose)");
        }

        // Rank 0 alone records metrics and shows progress; the others' events go nowhere (their engines publish none).
        var events = main ? new EventBus() : (IEventBus)new SilentEventBus();
        IDisposable? console = null;
        if (main)
        {
            events.Subscribe(new MetricsFile(runDir.MetricsFile));
            var progress = Interactive() ? (IProgressFactory)new SpectreProgressFactory(AnsiConsole.Console) : new PlainProgressFactory(log, TimeSpan.FromSeconds(p.Run.ProgressSeconds));
            var consoleProgress = new ConsoleProgress(progress, log);
            events.Subscribe(consoleProgress);
            console = consoleProgress;
        }
        var clock = Stopwatch.StartNew();
        try
        {
            var environment = new DeferredEnvironment();
            using var container = new ComponentContainer(p.Catalog, runLoggers, events, environment);
            var globals = new HostRecipeGlobals(p.Config, container, events, log, runDir, request.RecipePath, p.Run.Seed, cancellation, request.DryRun)
            {
                Job = _job,
                Rerun = RerunCommand(request, plannedRunDirectory),
                LaunchFiles = (fileName, contents) => WriteLaunchFile(request, p, compiled, plannedRunDirectory, fileName, contents),
            };
            environment.Target = globals;
            await p.Assembly!.RunAsync(globals);
            _job.Finish();
            if (cancellation.IsCancellationRequested)
            {
                // The recipe saw the interruption and stopped cleanly (a trainer checkpoints first): a success for a
                // scheduler that preempts jobs (Slurm), and the next identical invocation resumes.
                if (main) runDir.WriteStatus("interrupted", request.RecipePath, compiled.Hash, null);
                log.LogWarning("Interrupted after {Seconds:F1} s; the recipe stopped cleanly. Resume with the same command and --run-dir {RunDir} (or --resume)",
                    clock.Elapsed.TotalSeconds, runDir.Path);
                return ExitCodes.Ok;
            }
            if (main) runDir.WriteStatus("completed", request.RecipePath, compiled.Hash, null);
            log.LogInformation("Recipe finished in {Seconds:F1} s", clock.Elapsed.TotalSeconds);
            return ExitCodes.Ok;
        }
        catch (Exception e)
        {
            var where = p.Assembly!.LocateInRecipe(e) ?? RecipeDiagnostic.DisplayPath(compiled.Sources.EntryPath);
            var invalid = e is ConfigException or ComponentNotFoundException;
            var cancelled = e is OperationCanceledException && cancellation.IsCancellationRequested;
            var message = cancelled ? "interrupted" : $"{e.GetType().Name}: {e.Message}";
            var tag = main ? "" : $"[{_job.Launch}] ";
            // Another rank's failure is reported by that rank; here it is only why this one stops. A clean interruption is no error.
            if (!cancelled && (main || e is not (JobRankFailedException or JobInterruptedException))) stderr.WriteLine($"{tag}{where}: error: {message}");
            log.LogDebug(e, "Recipe failed");
            if (cancelled && (_job.Alone || _job.FailingTogether))
            {
                // The recipe stopped by throwing at the interruption (an engine that was mid-shard, say): a clean stop as
                // much as a return, since every engine resumes — the same answer, exit 0, as a recipe that returned.
                // Under data parallelism every rank stopped at the same point.
                if (main) runDir.WriteStatus("interrupted", request.RecipePath, compiled.Hash, null);
                log.LogWarning("Interrupted after {Seconds:F1} s; the recipe stopped cleanly. Resume with the same command and --run-dir {RunDir} (or --resume)",
                    clock.Elapsed.TotalSeconds, runDir.Path);
                return ExitCodes.Ok;
            }
            if (main || !_job.FailingTogether) runDir.WriteStatus(cancelled ? "interrupted" : "failed", request.RecipePath, compiled.Hash, $"{tag}{where}: {message}");
            return _job.Fail(invalid ? ExitCodes.InvalidInput : ExitCodes.RunFailed, log, flushLog: runLoggers.Dispose);   // disposing drains the console queue
        }
        finally
        {
            console?.Dispose();
            if (rankOut is not null) Console.SetOut(consoleOut);
        }
    }

    /// <summary>The command line that runs <paramref name="request"/> again in <paramref name="runDirectory"/>: this executable, absolute paths.</summary>
    static IReadOnlyList<string> RerunCommand(RunRequest request, string runDirectory)
    {
        var self = Environment.ProcessPath ?? "ziya2";
        var entry = System.Reflection.Assembly.GetEntryAssembly()?.Location;
        var command = new List<string>();
        if (Path.GetFileNameWithoutExtension(self) == "dotnet" && entry is { Length: > 0 }) command.AddRange([self, entry]);
        else command.Add(self);
        command.AddRange(["run", Path.GetFullPath(request.RecipePath)]);
        foreach (var c in request.ConfigFiles) command.AddRange(["-c", Path.GetFullPath(c)]);
        foreach (var o in request.Overrides) command.AddRange(["--set", o]);
        foreach (var d in request.PluginDirectories) command.AddRange(["--plugins", Path.GetFullPath(d)]);
        command.AddRange(["--run-dir", Path.GetFullPath(runDirectory), "--log-format", request.LogFormat.ToString().ToLowerInvariant(), "--log-level", request.LogLevel.ToString()]);
        return command;
    }

    /// <summary>
    /// A launch file in the run directory <see cref="RerunCommand"/> names: in a dry run that directory is created now
    /// (status "planned", the resolved config), so the plan's own run finds it and a changed config is refused there.
    /// Rank 0 writes; the others only say where.
    /// </summary>
    string WriteLaunchFile(RunRequest request, Prepared p, CompiledRecipe compiled, string runDirectory, string fileName, Func<string, string> contents)
    {
        runDirectory = Path.GetFullPath(runDirectory);
        if (fileName.IndexOfAny(['/', '\\']) >= 0 || fileName is "." or ".." or "run.json" or "config.toml") throw new ArgumentException($"'{fileName}' is not a launch file name (a plain file name, not run.json or config.toml)");
        var path = Path.Combine(runDirectory, fileName);
        if (!_job.IsMain) return path;
        if (request.DryRun)
            try { RunDirectory.Prepare(runDirectory, request.RecipePath, compiled.Hash, ResolvedConfig(p), request.Force, planned: true); }
            catch (RunDirectoryException e) { throw new InvalidOperationException(e.Message, e); }
        AtomicFile.WriteAllText(path, contents(runDirectory));
        return path;
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

    /// <summary>A bus that delivers nothing: ranks other than 0 write no metrics, progress or TensorBoard files.</summary>
    sealed class SilentEventBus : IEventBus
    {
        public IDisposable Subscribe(IEventObserver observer) => new Nothing();
        public void Publish(RunEvent e) { }
        sealed class Nothing : IDisposable { public void Dispose() { } }
    }

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
