using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Tomlyn;
using Tomlyn.Model;
using Ziya2.Data;
using Ziya2.DataFactory.Pipeline;
using Ziya2.Events;
using Ziya2.DataFactory.Reading;
using Ziya2.Kernel.Configuration;
using Ziya2.Kernel.Hosting;
using Ziya2.Plugins;

namespace Ziya2.Cli;

/// <summary>Settings of a data pipeline, at <c>[pipeline]</c>.</summary>
public sealed class PipelineSettings : Ziya2.Configuration.IValidatableOptions
{
    /// <summary>
    /// Step names, applied in order; options of each at <c>[filters.&lt;name&gt;]</c>. A step is the data filter of that
    /// name unless its section says <c>use = "&lt;filter&gt;"</c>, so one filter can run twice with different options.
    /// </summary>
    public List<string> Steps { get; set; } = [];
    public int MaxShardMb { get; set; } = 256;
    public int MaxLineMb { get; set; } = 64;
    public int Parallelism { get; set; } = Environment.ProcessorCount;
    /// <summary>Encodings tried for bytes that are not UTF-8 (empty: reject them as invalid UTF-8).</summary>
    public List<string> LegacyEncodings { get; set; } = ["gb18030", "big5"];

    public IEnumerable<string> Validate()
    {
        if (Steps.Count == 0) yield return "steps must name at least one data filter";
        if (Steps.Distinct().Count() != Steps.Count) yield return "a step name may appear only once (run one filter twice under two names with use = \"<filter>\")";
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

/// <summary><c>ziya2 data run &lt;pipeline.toml&gt; --input … --output …</c>.</summary>
static class DataCommands
{
    public static Command Create(Option<string[]> plugins, Option<LogLevel> logLevel, Option<LogFormat> logFormat)
    {
        var pipeline = new Argument<string>("pipeline") { Description = "Pipeline TOML: [pipeline] steps = [...], [filters.<name>] options, [input] field names" };
        var input = new Option<string[]>("--input") { Description = "Input files or directories (JSONL, .gz, .zst, Parquet, directories of text files)", Required = true, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--output") { Description = "Output directory (kept/, rejected/, stats.json, funnel.svg)", Required = true };
        var set = new Option<string[]>("--set") { Description = "Override a key: --set filters.min-length.min_chars=100", Arity = ArgumentArity.ZeroOrMore };
        var dryRun = new Option<bool>("--dry-run") { Description = "Validate and print the plan; process nothing" };
        var force = new Option<bool>("--force") { Description = "Replace the output of a different pipeline in --output" };
        var run = new Command("run", "Run a data pipeline over input shards") { pipeline, input, output, set, dryRun, force, plugins, logLevel, logFormat };
        run.SetAction((r, ct) => Task.FromResult(Run(r, pipeline, input, output, set, dryRun, force, plugins, logLevel, logFormat, ct)));
        return new Command("data", "The data factory: run pipelines of data filters, evaluate their output, gate it") { run, DataTokenizeCommand.Create(plugins, logLevel), DataEvaluationCommands.Evaluate(), DataEvaluationCommands.Gate() };
    }

    static int Run(ParseResult r, Argument<string> pipelineArg, Option<string[]> inputOpt, Option<string> outputOpt, Option<string[]> setOpt,
        Option<bool> dryRunOpt, Option<bool> forceOpt, Option<string[]> plugins, Option<LogLevel> logLevel, Option<LogFormat> logFormat, CancellationToken cancellation)
    {
        using var loggers = Logging.Create(r.GetValue(logFormat), r.GetValue(logLevel));
        var log = loggers.CreateLogger("data");
        return InvalidInput.Guard(() =>
        {
            using var session = ComponentSession.Open(loggers, [r.GetValue(pipelineArg)!], r.GetValue(setOpt) ?? [], r.GetValue(plugins) ?? []);
            var settings = session.Bind<PipelineSettings>("pipeline");
            var fields = session.Bind<FieldMapping>("input");
            var steps = new List<PipelineStep>();
            var components = new List<string>();
            foreach (var name in settings.Steps)
            {
                var component = TakeUse(session, $"filters.{name}") ?? name;
                components.Add(component);
                if (session.Factory(ComponentKind.DataFilter, component, $"filters.{name}") is { } factory)
                    steps.Add(new PipelineStep(name, () => (IDataFilter)factory()));
            }
            session.ReportUnknownKeys();
            session.ThrowIfErrors();

            var shards = InputShard.Expand(r.GetValue(inputOpt)!);
            var fingerprint = Fingerprint(session, settings.Steps.Zip(components), shards);
            if (r.GetValue(dryRunOpt))
            {
                Console.Out.WriteLine($"pipeline {fingerprint[..12]}: {steps.Count} step(s), {shards.Count} shard(s), output {r.GetValue(outputOpt)}");
                foreach (var (s, component) in settings.Steps.Zip(components))
                {
                    var d = session.Catalog.Get(ComponentKind.DataFilter, component);
                    var label = s == component ? s : $"{s} ({component})";
                    Console.Out.WriteLine($"  step {label,-32} {d.Plugin.Name} {d.Plugin.Version}: {d.Description}");
                }
                foreach (var s in shards) Console.Out.WriteLine($"  shard {s.Name,-32} {s.Format,-13} {Size(s.Path)}");
                return ExitCodes.Ok;
            }

            var options = new PipelineOptions
            {
                MaxShardBytes = (long)settings.MaxShardMb << 20, MaxLineBytes = settings.MaxLineMb << 20,
                Parallelism = settings.Parallelism, Force = r.GetValue(forceOpt), Fields = fields, LegacyEncodings = settings.LegacyEncodings,
            };
            int finished = 0;
            PipelineResult result;
            var events = new EventBus();
            events.Subscribe(e =>
            {
                if (e.Name == RunEvents.ShardEnd)
                    log.LogInformation("shard {Done}/{Total} {Shard}: {Input} in, {Kept} kept, {Rejected} rejected",
                        ++finished, shards.Count, e.Detail, (long)e.Get("input"), (long)e.Get("kept"), (long)e.Get("rejected"));
            });
            try
            {
                result = new DataPipeline(steps, options).Run(shards, r.GetValue(outputOpt)!, fingerprint, events, cancellation);
            }
            catch (PipelineConflictException e) { Console.Error.WriteLine($"error: {e.Message} (--force)"); return ExitCodes.InvalidInput; }
            catch (ReconcileException e) { Console.Error.WriteLine($"error: counts do not reconcile: {e.Message}"); return ExitCodes.RunFailed; }
            catch (OperationCanceledException) { Console.Error.WriteLine("interrupted; run the same command again to resume"); return ExitCodes.RunFailed; }
            PipelineSummary.Write(Console.Out, result);
            return ExitCodes.Ok;
        });
    }

    /// <summary>
    /// Reads and removes <c>use</c> from a step's section, so the filter's own options binder never sees it (the
    /// fingerprint lists each step's filter instead).
    /// </summary>
    static string? TakeUse(ComponentSession session, string section)
    {
        if (session.Tree.Find(section) is not TomlTable table || !table.TryGetValue("use", out var value)) return null;
        table.Remove("use");
        session.Tree.MarkConsumed(section + ".use");
        if (value is string s && s.Length > 0) return s;
        throw new ConfigException([new ConfigError(section + ".use", $"must be a data filter name, got {ConfigTree.Show(value)}", session.Tree.OriginOf(section + ".use"))]);
    }

    /// <summary>What determines the output: resolved settings of every step and the input list.</summary>
    static string Fingerprint(ComponentSession session, IEnumerable<(string Step, string Component)> steps, IReadOnlyList<InputShard> shards)
    {
        var text = new StringBuilder(TomlSerializer.Serialize(session.Tree.Root));
        foreach (var (step, component) in steps) text.Append('\n').Append(step).Append("->").Append(component);
        foreach (var s in shards) text.Append('\n').Append(s.Name).Append('=').Append(s.Path);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    static string Size(string path) =>
        File.Exists(path) ? $"{new FileInfo(path).Length / 1e6:F1} MB" : $"{Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) / 1e6:F1} MB";
}
