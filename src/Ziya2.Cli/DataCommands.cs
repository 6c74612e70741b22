using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Ziya2.Data;
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

/// <summary><c>ziya2 data run &lt;pipelines.toml&gt; --input … --output …</c>.</summary>
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
        var dryRun = new Option<bool>("--dry-run") { Description = "Validate and print the plan; process nothing" };
        var force = new Option<bool>("--force") { Description = "Replace the output of a different pipeline in --output" };
        var run = new Command("run", "Run data pipelines over input shards") { file, config, names, input, output, set, dryRun, force, plugins, logLevel, logFormat };
        run.SetAction((r, ct) => Task.FromResult(Run(r, file, config, names, input, output, set, dryRun, force, plugins, logLevel, logFormat, ct)));
        return new Command("data", "The data factory: run pipelines of data filters, evaluate their output, gate it") { run, DataTokenizeCommand.Create(plugins, logLevel), DataEvaluationCommands.Evaluate(), DataEvaluationCommands.Gate() };
    }

    static int Run(ParseResult r, Argument<string> fileArg, Option<string[]> configOpt, Option<string[]> namesOpt, Option<string[]> inputOpt, Option<string> outputOpt,
        Option<string[]> setOpt, Option<bool> dryRunOpt, Option<bool> forceOpt, Option<string[]> plugins, Option<LogLevel> logLevel, Option<LogFormat> logFormat, CancellationToken cancellation)
    {
        using var loggers = Logging.Create(r.GetValue(logFormat), r.GetValue(logLevel));
        var log = loggers.CreateLogger("data");
        return InvalidInput.Guard(() =>
        {
            using var session = ComponentSession.Open(loggers, [r.GetValue(fileArg)!, .. r.GetValue(configOpt) ?? []], r.GetValue(setOpt) ?? [], r.GetValue(plugins) ?? []);
            if (session.Tree.Find("pipeline.steps") is not null)
                throw new ConfigException([new ConfigError("pipeline.steps", "pipelines are named: [pipelines.<name>] steps = [...] ([pipeline] keeps the engine settings)", session.Tree.OriginOf("pipeline.steps"))]);
            var settings = session.Bind<PipelineSettings>("pipeline");
            var fields = session.Bind<FieldMapping>("input");
            var defined = PipelineDefinitions.Names(session.Tree);
            var names = r.GetValue(namesOpt) is { Length: > 0 } chosen ? chosen.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList() : [.. defined];
            if (names.Count == 0)
                throw new ConfigException([new ConfigError(PipelineDefinitions.Section, "no pipeline defined: [pipelines.<name>] steps = [...]", r.GetValue(fileArg))]);
            if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new ConfigException([new ConfigError(PipelineDefinitions.Section, $"--pipeline names '{twice.Key}' twice; each pipeline writes <output>/<name> once", "--pipeline")]);
            var pipelines = names.Select(n => (Name: n, Steps: session.Pipeline(n))).ToList();
            // Pipelines this run leaves out are checked too: their settings are not unknown keys, and a typo in them is found now.
            foreach (var other in defined.Except(names)) session.Pipeline(other);
            session.ReportUnknownKeys();
            session.ThrowIfErrors();

            var shards = InputShard.Expand(r.GetValue(inputOpt)!);
            var output = r.GetValue(outputOpt)!;
            if (r.GetValue(dryRunOpt))
            {
                Console.Out.WriteLine($"{pipelines.Count} pipeline(s), {shards.Count} shard(s), output {output}");
                foreach (var (name, steps) in pipelines)
                {
                    Console.Out.WriteLine($"pipeline {name} → {Path.Combine(output, name)}: {steps!.Count} step(s)");
                    foreach (var s in steps)
                    {
                        var label = s.Definition.Name == s.Descriptor.Name ? s.Definition.Name : $"{s.Definition.Name} ({s.Descriptor.Name})";
                        Console.Out.WriteLine($"  step {label,-32} {s.Descriptor.Plugin.Name} {s.Descriptor.Plugin.Version}: {s.Descriptor.Description}");
                    }
                }
                foreach (var s in shards) Console.Out.WriteLine($"  shard {s.Name,-32} {s.Format,-13} {Size(s.Path)}");
                return ExitCodes.Ok;
            }

            var options = new PipelineOptions
            {
                MaxShardBytes = (long)settings.MaxShardMb << 20, MaxLineBytes = settings.MaxLineMb << 20,
                Parallelism = settings.Parallelism, Force = r.GetValue(forceOpt), Fields = fields, LegacyEncodings = settings.LegacyEncodings,
            };
            var events = new EventBus();
            int finished = 0, total = 0;
            string current = "";
            events.Subscribe(e =>
            {
                if (e.Name == RunEvents.ShardEnd)
                    log.LogInformation("{Pipeline}: shard {Done}/{Total} {Shard}: {Input} in, {Kept} kept, {Rejected} rejected",
                        current, Interlocked.Increment(ref finished), total, e.Detail, (long)e.Get("input"), (long)e.Get("kept"), (long)e.Get("rejected"));
            });
            var input = shards;
            var upstream = "";
            var results = new List<PipelineResult>();
            foreach (var (name, steps) in pipelines)
            {
                (current, finished, total) = (name, 0, input.Count);
                options.Name = name;
                var directory = Path.Combine(output, name);
                upstream = Fingerprint(session, name, steps!, upstream, input);
                try
                {
                    results.Add(new DataPipeline([.. steps!.Select(session.Step)], options).Run(input, directory, upstream, events, cancellation));
                }
                catch (PipelineConflictException e) { Console.Error.WriteLine($"error: {e.Message} (--force)"); return ExitCodes.InvalidInput; }
                catch (ReconcileException e) { Console.Error.WriteLine($"error: counts do not reconcile: {e.Message}"); return ExitCodes.RunFailed; }
                catch (OperationCanceledException) { Console.Error.WriteLine("interrupted; run the same command again to resume"); return ExitCodes.RunFailed; }
                Console.Out.WriteLine($"== {name}");
                PipelineSummary.Write(Console.Out, results[^1]);
                input = InputShard.Expand([Path.Combine(directory, "kept")]);
            }
            if (results.Count > 1)
                Console.Out.WriteLine($"funnel: {results[0].Stats.Input:N0} in → " + string.Join(" → ", results.Select((x, i) => $"{pipelines[i].Name} {x.Stats.Kept:N0}")));
            return ExitCodes.Ok;
        });
    }

    /// <summary>
    /// What determines a pipeline's output: its definition, each step's filter and options, the engine and field
    /// settings, and what it reads (the inputs, or the fingerprint of the pipeline before it) — so changing a rule
    /// threshold redoes that pipeline and those after it, not the ones before.
    /// </summary>
    static string Fingerprint(ComponentSession session, string pipeline, IEnumerable<ResolvedPipelineStep> steps, string upstream, IReadOnlyList<InputShard> shards)
    {
        string Section(string path) => ConfigTree.Canonical(session.Tree.Find(path));
        var text = new StringBuilder(upstream).Append('\n').Append(pipeline).Append('=').Append(Section(PipelineDefinitions.PathOf(pipeline)))
            .Append("\npipeline=").Append(Section("pipeline")).Append("\ninput=").Append(Section("input"));
        foreach (var s in steps) text.Append('\n').Append(s.Definition.Name).Append("->").Append(s.Descriptor.Name).Append(Section(s.Definition.Section));
        foreach (var s in shards) text.Append('\n').Append(s.Name).Append('=').Append(s.Path);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    static string Size(string path) =>
        File.Exists(path) ? $"{new FileInfo(path).Length / 1e6:F1} MB" : $"{Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) / 1e6:F1} MB";
}
