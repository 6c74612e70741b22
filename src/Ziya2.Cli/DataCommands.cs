using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Tomlyn;
using Tomlyn.Model;
using Ziya2.Data;
using Ziya2.DataFactory.Pipeline;
using Ziya2.DataFactory.Reading;
using Ziya2.Kernel.Configuration;
using Ziya2.Kernel.Hosting;
using Ziya2.Plugins;

namespace Ziya2.Cli;

/// <summary>Settings of a data pipeline, at <c>[pipeline]</c>.</summary>
public sealed class PipelineSettings : Ziya2.Configuration.IValidatableOptions
{
    /// <summary>Data-filter component names, applied in order; options of each at <c>[filters.&lt;name&gt;]</c>.</summary>
    public List<string> Steps { get; set; } = [];
    public int MaxShardMb { get; set; } = 256;
    public int MaxLineMb { get; set; } = 64;
    public int Parallelism { get; set; } = Environment.ProcessorCount;
    /// <summary>Encodings tried for bytes that are not UTF-8 (empty: reject them as invalid UTF-8).</summary>
    public List<string> LegacyEncodings { get; set; } = ["gb18030", "big5"];

    public IEnumerable<string> Validate()
    {
        if (Steps.Count == 0) yield return "steps must name at least one data filter";
        if (Steps.Distinct().Count() != Steps.Count) yield return "a step may appear only once";
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
        return new Command("data", "The data factory: run pipelines of data filters") { run };
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
            foreach (var name in settings.Steps)
                if (session.Factory(ComponentKind.DataFilter, name, $"filters.{name}") is { } factory)
                    steps.Add(new PipelineStep(name, () => (IDataFilter)factory()));
            session.ReportUnknownKeys();
            session.ThrowIfErrors();

            var shards = InputShard.Expand(r.GetValue(inputOpt)!);
            var fingerprint = Fingerprint(session, settings, shards);
            if (r.GetValue(dryRunOpt))
            {
                Console.Out.WriteLine($"pipeline {fingerprint[..12]}: {steps.Count} step(s), {shards.Count} shard(s), output {r.GetValue(outputOpt)}");
                foreach (var s in settings.Steps)
                {
                    var d = session.Catalog.Get(ComponentKind.DataFilter, s);
                    Console.Out.WriteLine($"  step {s,-24} {d.Plugin.Name} {d.Plugin.Version}: {d.Description}");
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
            try
            {
                result = new DataPipeline(steps, options).Run(shards, r.GetValue(outputOpt)!, fingerprint, (name, stats) =>
                    log.LogInformation("shard {Done}/{Total} {Shard}: {Input} in, {Kept} kept, {Rejected} rejected",
                        Interlocked.Increment(ref finished), shards.Count, name, stats.Input, stats.Kept, stats.Rejected), cancellation);
            }
            catch (PipelineConflictException e) { Console.Error.WriteLine($"error: {e.Message} (--force)"); return ExitCodes.InvalidInput; }
            catch (ReconcileException e) { Console.Error.WriteLine($"error: counts do not reconcile: {e.Message}"); return ExitCodes.RunFailed; }
            catch (OperationCanceledException) { Console.Error.WriteLine("interrupted; run the same command again to resume"); return ExitCodes.RunFailed; }
            Summary(Console.Out, result);
            return ExitCodes.Ok;
        });
    }

    /// <summary>What determines the output: resolved settings of every step and the input list.</summary>
    static string Fingerprint(ComponentSession session, PipelineSettings settings, IReadOnlyList<InputShard> shards)
    {
        var text = new StringBuilder(TomlSerializer.Serialize(session.Tree.Root));
        foreach (var s in shards) text.Append('\n').Append(s.Name).Append('=').Append(s.Path);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    static string Size(string path) =>
        File.Exists(path) ? $"{new FileInfo(path).Length / 1e6:F1} MB" : $"{Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) / 1e6:F1} MB";

    /// <summary>The funnel as text: what each step received and passed, and why documents were dropped.</summary>
    static void Summary(TextWriter o, PipelineResult result)
    {
        var s = result.Stats;
        o.WriteLine($"{s.Input:N0} records in → {s.Kept:N0} kept ({(double)s.Kept / Math.Max(1, s.Input):P2}), {s.Rejected:N0} rejected; " +
                    $"{s.Shards} shard(s), {result.ShardsSkipped} already done; {s.Seconds:F1} s");
        o.WriteLine($"{"step",-24} {"in",12} {"kept",12} {"dropped",10} {"rewritten",10} {"MB in",9} {"MB out",9}  top reasons");
        foreach (var st in s.Steps)
            o.WriteLine($"{st.Name,-24} {st.Input,12:N0} {st.Kept,12:N0} {st.Dropped,10:N0} {st.Rewritten,10:N0} {st.BytesIn / 1e6,9:F1} {st.BytesOut / 1e6,9:F1}  " +
                        string.Join(", ", st.Reasons.OrderByDescending(x => x.Value).Take(3).Select(x => $"{x.Key}={x.Value:N0}")));
        o.WriteLine($"stats: {Path.Combine(result.OutputDirectory, "stats.json")}  funnel: {Path.Combine(result.OutputDirectory, "funnel.svg")}");
    }
}
