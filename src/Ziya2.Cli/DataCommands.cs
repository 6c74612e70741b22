using System.CommandLine;
using Microsoft.Extensions.Logging;
using Ziya2.Data;
using Ziya2.DataFactory.Cluster;
using Ziya2.DataFactory.Pipeline;
using Ziya2.Events;
using Ziya2.DataFactory.Reading;
using Ziya2.Kernel.Configuration;
using Ziya2.Kernel.Hosting;
using Ziya2.Plugins;

namespace Ziya2.Cli;

/// <summary>How <c>ziya2 data run</c> runs its pipelines, at <c>[pipeline]</c>; the pipelines are at <c>[pipelines.&lt;name&gt;]</c>.</summary>
public sealed class PipelineSettings : Ziya2.Configuration.IValidatableOptions
{
    public int MaxShardMb { get; set; } = 256;
    public int MaxLineMb { get; set; } = 64;
    public int Parallelism { get; set; } = Environment.ProcessorCount;
    /// <summary>Encodings tried for bytes that are not UTF-8 (empty: reject them as invalid UTF-8).</summary>
    public List<string> LegacyEncodings { get; set; } = ["gb18030", "big5"];

    public IEnumerable<string> Validate()
    {
        if (MaxShardMb <= 0 || MaxLineMb <= 0 || Parallelism <= 0) yield return "max_shard_mb, max_line_mb and parallelism must be > 0";
        foreach (var e in LegacyEncodings)
        {
            string? problem = null;
            try { _ = new Ziya2.DataFactory.Reading.LegacyEncodings([e]); }
            catch (ArgumentException) { problem = $"unknown encoding '{e}'"; }
            if (problem is not null) yield return problem;
        }
    }
}

/// <summary><c>ziya2 data run &lt;pipelines.toml&gt; --input … --output …</c>, here or as tasks of a cluster job.</summary>
static class DataCommands
{
    public static Command Create(Option<string[]> plugins, Option<LogLevel> logLevel, Option<LogFormat> logFormat)
    {
        var file = new Argument<string>("pipelines") { Description = "TOML with [pipelines.<name>] steps = [...] and [filters.<step>] options (recipes/pipelines/ziya2.toml: the factory's steps 1–4)" };
        var config = new Option<string[]>("--config", "-c") { Description = "More TOML layered over the pipeline file (site paths, thresholds)", Arity = ArgumentArity.ZeroOrMore };
        var names = new Option<string[]>("--pipeline") { Description = "Pipelines to run, in order, each reading what the one before kept (default: all the file defines, in its order)", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = true };
        var input = new Option<string[]>("--input") { Description = "Input files or directories (JSONL, .gz, .zst, Parquet, directories of text files)", Required = true, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--output") { Description = "Output directory: <output>/<pipeline>/ holds kept/, rejected/, stats.json, funnel.svg", Required = true };
        var set = new Option<string[]>("--set") { Description = "Override a key: --set filters.min-length.min_chars=100", Arity = ArgumentArity.ZeroOrMore };
        var dryRun = new Option<bool>("--dry-run") { Description = "Validate and print the plan (pipelines, phases, shards); process nothing" };
        var force = new Option<bool>("--force") { Description = "Replace the output of a different pipeline in --output" };
        var executor = new Option<string>("--executor") { Description = "local (here, default), slurm (sbatch job arrays chained with afterok; [executor.slurm]) or k8s (Indexed Job manifests and run.sh; [executor.k8s])", DefaultValueFactory = _ => "local" };
        var noSubmit = new Option<bool>("--no-submit") { Description = "With --executor slurm: write the sbatch scripts, submit nothing" };
        var wait = new Option<bool>("--wait") { Description = "With --executor slurm: wait for the jobs; with k8s: apply the Jobs with kubectl and wait; then print each pipeline's summary (exit 1 if they failed)" };
        var phase = new Option<string?>("--phase") { Description = "Worker: run one phase, <pipeline>/<phase> (observe:<step>, decide:<step>, apply, finish; --dry-run lists them)" };
        var task = new Option<string?>("--task") { Description = "Worker: task I/N (default: SLURM_ARRAY_TASK_ID, or JOB_COMPLETION_INDEX with --tasks)" };
        var tasks = new Option<int?>("--tasks") { Description = "Worker: the number of tasks (default: SLURM_ARRAY_TASK_COUNT)" };
        var run = new Command("run", "Run data pipelines over input shards, here or as a cluster's tasks") { file, config, names, input, output, set, dryRun, force, executor, noSubmit, wait, phase, task, tasks, plugins, logLevel, logFormat };
        run.SetAction((r, ct) => Task.FromResult(Run(r, new RunOptions(file, config, names, input, output, set, dryRun, force, executor, noSubmit, wait, phase, task, tasks, plugins, logLevel, logFormat), ct)));
        return new Command("data", "The data factory: run pipelines of data filters, evaluate their output, gate it")
            { run, DataStatusCommand.Create(), DataTokenizeCommand.Create(plugins, logLevel), DataEvaluationCommands.Evaluate(), DataEvaluationCommands.Gate() };
    }

    sealed record RunOptions(Argument<string> File, Option<string[]> Config, Option<string[]> Names, Option<string[]> Input, Option<string> Output, Option<string[]> Set,
        Option<bool> DryRun, Option<bool> Force, Option<string> Executor, Option<bool> NoSubmit, Option<bool> Wait, Option<string?> Phase, Option<string?> Task, Option<int?> Tasks,
        Option<string[]> Plugins, Option<LogLevel> LogLevel, Option<LogFormat> LogFormat);

    static int Run(ParseResult r, RunOptions o, CancellationToken cancellation)
    {
        using var loggers = Logging.Create(r.GetValue(o.LogFormat), r.GetValue(o.LogLevel));
        var log = loggers.CreateLogger("data");
        return InvalidInput.Guard(() =>
        {
            using var session = ComponentSession.Open(loggers, [r.GetValue(o.File)!, .. r.GetValue(o.Config) ?? []], r.GetValue(o.Set) ?? [], r.GetValue(o.Plugins) ?? []);
            if (session.Tree.Find("pipeline.steps") is not null)
                throw new ConfigException([new ConfigError("pipeline.steps", "pipelines are named: [pipelines.<name>] steps = [...] ([pipeline] keeps the engine settings)", session.Tree.OriginOf("pipeline.steps"))]);
            var settings = session.Bind<PipelineSettings>("pipeline");
            var fields = session.Bind<FieldMapping>("input");
            var slurm = session.Bind<SlurmSettings>("executor.slurm");
            var k8s = session.Bind<KubernetesSettings>("executor.k8s");
            var defined = PipelineDefinitions.Names(session.Tree);
            var names = r.GetValue(o.Names) is { Length: > 0 } chosen ? chosen.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList() : [.. defined];
            if (names.Count == 0)
                throw new ConfigException([new ConfigError(PipelineDefinitions.Section, "no pipeline defined: [pipelines.<name>] steps = [...]", r.GetValue(o.File))]);
            if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new ConfigException([new ConfigError(PipelineDefinitions.Section, $"--pipeline names '{twice.Key}' twice; each pipeline writes <output>/<name> once", "--pipeline")]);
            var pipelines = names.Select(n => (Name: n, Steps: session.Pipeline(n))).ToList();
            // Pipelines this run leaves out are checked too: their settings are not unknown keys, and a typo in them is found now.
            foreach (var other in defined.Except(names)) session.Pipeline(other);
            session.ReportUnknownKeys();
            session.ThrowIfErrors();

            var shards = InputShard.Expand(r.GetValue(o.Input)!, out var skipped);
            if (skipped.Count > 0)
                Console.Error.WriteLine($"warning: {skipped.Count} file(s) in the input directories are not data files and were skipped " +
                                        $"({string.Join(", ", skipped.Take(5).Select(Path.GetFileName))}{(skipped.Count > 5 ? ", …" : "")}): data files are .jsonl, .jsonl.gz, .jsonl.zst, .parquet");
            var output = r.GetValue(o.Output)!;
            var executor = r.GetValue(o.Executor);
            if (executor is not ("local" or "slurm" or "k8s")) throw new ArgumentException($"--executor must be local, slurm or k8s, not '{executor}'");
            if (executor != "slurm" && r.GetValue(o.NoSubmit)) throw new ArgumentException("--no-submit goes with --executor slurm");
            if (executor == "local" && r.GetValue(o.Wait)) throw new ArgumentException("--wait goes with --executor slurm or k8s");
            // Workers never delete what another task may be using; replacing a different pipeline's output is the operator's call.
            if (executor != "local" && r.GetValue(o.Force)) throw new ArgumentException($"--force is for local runs; clear {output} (or use another --output) before submitting");
            var options = new PipelineOptions
            {
                MaxShardBytes = (long)settings.MaxShardMb << 20, MaxLineBytes = settings.MaxLineMb << 20,
                Parallelism = settings.Parallelism, Force = r.GetValue(o.Force), Fields = fields, LegacyEncodings = settings.LegacyEncodings,
            };
            var chain = new DataRunChain(session, [.. pipelines.Select(p => (p.Name, (IReadOnlyList<ResolvedPipelineStep>)p.Steps!))], shards, output, options);

            if (r.GetValue(o.DryRun))
            {
                Console.Out.WriteLine($"{pipelines.Count} pipeline(s), {shards.Count} shard(s), output {output}");
                for (int k = 0; k < pipelines.Count; k++)
                {
                    var (name, steps) = pipelines[k];
                    Console.Out.WriteLine($"pipeline {name} → {chain.Directory(k)}: {steps!.Count} step(s); phases {string.Join(", ", chain.Phases(k))}");
                    foreach (var s in steps)
                    {
                        Console.Out.WriteLine($"  step {s.Label,-32} {s.Descriptor.Plugin.Name} {s.Descriptor.Plugin.Version}: {s.Descriptor.Description}");
                    }
                }
                foreach (var s in shards) Console.Out.WriteLine($"  shard {s.Name,-32} {s.Format,-13} {Size(s.Path)}");
                return ExitCodes.Ok;
            }

            var events = new EventBus();
            int finished = 0;
            events.Subscribe(e =>
            {
                if (e.Name == RunEvents.ShardEnd)
                    log.LogInformation("{Pipeline}: shard {Done} {Shard}: {Input} in, {Kept} kept, {Rejected} rejected",
                        e.Stage, Interlocked.Increment(ref finished), e.Detail, (long)e.Get("input"), (long)e.Get("kept"), (long)e.Get("rejected"));
            });
            try
            {
                if (r.GetValue(o.Phase) is { } phaseText)
                    return RunWorker(chain, phaseText, perTask => ResolveTask(r.GetValue(o.Task), r.GetValue(o.Tasks), perTask), events, cancellation);
                if (r.GetValue(o.Task) is not null || r.GetValue(o.Tasks) is not null)
                    throw new ArgumentException("--task and --tasks belong to a worker, which runs one --phase");
                if (executor == "slurm")
                {
                    var jobs = SlurmExecutor.Submit(chain.Plan(), slurm, WorkerArguments(r, o, names), output, submit: !r.GetValue(o.NoSubmit));
                    foreach (var job in jobs)
                        Console.Out.WriteLine($"{job.Id ?? "(not submitted)",-12} {job.Pipeline}/{job.Phase,-20} {job.Phase.Tasks(slurm.Tasks)} task(s)  {job.Script}");
                    Console.Out.WriteLine(jobs[0].Id is null ? $"scripts in {Path.GetDirectoryName(jobs[0].Script)}; submit them in order, each --dependency=afterok on the one before"
                                                             : $"submitted {jobs.Count} job(s); follow them with: ziya2 data status {output}");
                    if (!r.GetValue(o.Wait) || jobs[0].Id is null) return ExitCodes.Ok;
                    if (!SlurmExecutor.Wait(jobs, Path.GetFullPath(output), TimeSpan.FromSeconds(2), cancellation))
                    {
                        Console.Error.WriteLine($"error: the jobs failed; their logs are in {Path.Combine(Path.GetFullPath(output), "_slurm", "logs")}; submit the same command again to resume");
                        return ExitCodes.RunFailed;
                    }
                    for (int k = 0; k < pipelines.Count; k++)
                    {
                        Console.Out.WriteLine($"== {pipelines[k].Name}");
                        PipelineSummary.Write(Console.Out, PipelineResult.Read(chain.Directory(k)));
                    }
                    return ExitCodes.Ok;
                }
                if (executor == "k8s")
                {
                    var manifests = KubernetesExecutor.Write(chain.Plan(), k8s, WorkerArguments(r, o, names), output);
                    foreach (var m in manifests)
                        Console.Out.WriteLine($"{m.Name,-48} {m.Pipeline}/{m.Phase,-20} {m.Phase.Tasks(k8s.Tasks)} task(s)  {m.Path}");
                    var runScript = Path.Combine(Path.GetDirectoryName(manifests[0].Path)!, "run.sh");
                    if (!r.GetValue(o.Wait))
                    {
                        Console.Out.WriteLine($"apply them in order with: bash {runScript}; follow with: ziya2 data status {output}");
                        return ExitCodes.Ok;
                    }
                    if (!KubernetesExecutor.ApplyAndWait(output, line => log.LogInformation("{Line}", line), cancellation))
                    {
                        Console.Error.WriteLine($"error: a Job failed (above); run the same command again to resume (bash {runScript} does the same)");
                        return ExitCodes.RunFailed;
                    }
                    for (int k = 0; k < pipelines.Count; k++)
                    {
                        Console.Out.WriteLine($"== {pipelines[k].Name}");
                        PipelineSummary.Write(Console.Out, PipelineResult.Read(chain.Directory(k)));
                    }
                    return ExitCodes.Ok;
                }
                var results = chain.RunAll(events, (name, result) => { Console.Out.WriteLine($"== {name}"); PipelineSummary.Write(Console.Out, result); }, cancellation);
                if (results.Count > 1)
                    Console.Out.WriteLine($"funnel: {results[0].Stats.Input:N0} in → " + string.Join(" → ", results.Select((x, i) => $"{pipelines[i].Name} {x.Stats.Kept:N0}")));
                return ExitCodes.Ok;
            }
            catch (PipelineConflictException e) { Console.Error.WriteLine($"error: {e.Message} (--force)"); return ExitCodes.InvalidInput; }
            catch (PipelinePhaseException e) { Console.Error.WriteLine($"error: {e.Message}"); return ExitCodes.RunFailed; }
            catch (ReconcileException e) { Console.Error.WriteLine($"error: counts do not reconcile: {e.Message}"); return ExitCodes.RunFailed; }
            catch (OperationCanceledException) { Console.Error.WriteLine("interrupted; run the same command again to resume"); return ExitCodes.RunFailed; }
        });
    }

    /// <summary>One phase of one pipeline, as one task: <c>--phase cd/observe:dedup</c>.</summary>
    static int RunWorker(DataRunChain chain, string phaseText, Func<bool, PipelineTask> resolveTask, IEventBus events, CancellationToken cancellation)
    {
        var slash = phaseText.IndexOf('/');
        if (slash < 0 && chain.Pipelines.Count > 1)
            throw new ArgumentException($"--phase names a pipeline too: <pipeline>/<phase>, e.g. {chain.Pipelines[0].Name}/apply");
        var name = slash < 0 ? chain.Pipelines[0].Name : phaseText[..slash];
        var phase = chain.Resolve(name, PipelinePhase.Parse(slash < 0 ? phaseText : phaseText[(slash + 1)..]));
        var task = resolveTask(phase.PerTask || phase.Partitions > 1);
        var result = chain.RunTask(name, phase, task, events, cancellation);
        Console.Out.WriteLine($"{name}/{phase}: task {task} done");
        if (result is not null) PipelineSummary.Write(Console.Out, result);
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The task from <c>--task I/N</c>, else from the scheduler: <c>SLURM_ARRAY_TASK_ID</c> (count from
    /// <c>SLURM_ARRAY_TASK_COUNT</c> or <c>--tasks</c>) or Kubernetes' <c>JOB_COMPLETION_INDEX</c> (count from
    /// <c>--tasks</c>); outside an array (decide and finish run once) task 0 of <c>--tasks</c>.
    /// </summary>
    static PipelineTask ResolveTask(string? task, int? tasks, bool perTask)
    {
        if (task is not null) return PipelineTask.Parse(task);
        static int Env(string name) => int.TryParse(Environment.GetEnvironmentVariable(name), out var v) ? v : -1;
        int index = Env("SLURM_ARRAY_TASK_ID"), count = tasks ?? Env("SLURM_ARRAY_TASK_COUNT");
        if (index < 0) index = Env("JOB_COMPLETION_INDEX");
        if (index >= 0 && count < 1) throw new ArgumentException($"task {index} of how many? give --tasks N");
        // A share of the files needs its index said; quietly taking task 0 would process 1/N of them.
        if (index < 0 && perTask && tasks is > 1)
            throw new ArgumentException($"which of the {tasks} tasks is this? give --task I/{tasks}, or run it where SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX is set");
        return index < 0 ? PipelineTask.Of(0, tasks ?? 1) : PipelineTask.Of(index, count);
    }

    /// <summary>This invocation as a worker's: absolute paths, the same settings, the same pipelines.</summary>
    static List<string> WorkerArguments(ParseResult r, RunOptions o, IReadOnlyList<string> names)
    {
        var args = new List<string> { "data", "run", Path.GetFullPath(r.GetValue(o.File)!) };
        foreach (var c in r.GetValue(o.Config) ?? []) args.AddRange(["-c", Path.GetFullPath(c)]);
        foreach (var s in r.GetValue(o.Set) ?? []) args.AddRange(["--set", s]);
        args.Add("--input"); args.AddRange(r.GetValue(o.Input)!.Select(Path.GetFullPath));
        args.AddRange(["--output", Path.GetFullPath(r.GetValue(o.Output)!), "--pipeline", string.Join(',', names)]);
        foreach (var p in r.GetValue(o.Plugins) ?? []) args.AddRange(["--plugins", Path.GetFullPath(p)]);
        args.AddRange(["--log-format", r.GetValue(o.LogFormat).ToString().ToLowerInvariant()]);
        return args;
    }

    static string Size(string path) =>
        File.Exists(path) ? $"{new FileInfo(path).Length / 1e6:F1} MB" : $"{Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) / 1e6:F1} MB";
}
