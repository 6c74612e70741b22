using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ziya2.DataFactory.Pipeline;
using Ziya2.Kernel.Hosting;

namespace Ziya2.Cli;

/// <summary>
/// <c>ziya2 data status &lt;output&gt;</c>: where a data run stands, read from its output directory alone (what cluster
/// tasks share): per pipeline, the phases tasks finished, the shards done, and the funnel once it finished.
/// </summary>
static class DataStatusCommand
{
    public static Command Create()
    {
        var output = new Argument<string>("output") { Description = "The --output of a data run" };
        var json = new Option<bool>("--json") { Description = "Machine-readable status" };
        var command = new Command("status", "Show a data run's progress: phases done per pipeline, shards done, funnel") { output, json };
        command.SetAction(r => InvalidInput.Guard(() => Show(r.GetValue(output)!, r.GetValue(json))));
        return command;
    }

    static int Show(string output, bool json)
    {
        if (!Directory.Exists(output)) throw new IOException($"{output}: no such directory");
        // Pipelines in the order they ran: each one's manifest was written when it started.
        var pipelines = Directory.GetDirectories(output).Where(d => File.Exists(Path.Combine(d, "pipeline.json")))
            .OrderBy(d => File.GetCreationTimeUtc(Path.Combine(d, "pipeline.json"))).ThenBy(d => d, StringComparer.Ordinal).ToList();
        if (pipelines.Count == 0) throw new IOException($"{output} holds no pipeline output (no <name>/pipeline.json)");
        var report = new JsonArray();
        foreach (var dir in pipelines)
        {
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "pipeline.json")))!;
            int inputs = manifest["inputs"]!.AsArray().Count;
            int done = Directory.Exists(Path.Combine(dir, "_done")) ? Directory.GetFiles(Path.Combine(dir, "_done"), "*.json").Length : 0;
            var markers = Directory.Exists(Path.Combine(dir, "_tasks")) ? Directory.GetFiles(Path.Combine(dir, "_tasks")).Select(Path.GetFileName).Where(n => !n!.EndsWith(".tmp", StringComparison.Ordinal)).ToList() : [];
            // Markers are "<phase>.<index>-of-<count>" for per-task phases and "<phase>" for single ones.
            // A partitioned step's decide rounds share a kind; they ran in the order their first markers were written.
            var phases = markers.GroupBy(m => m!.Split('.')[0]).Select(g => (Phase: g.Key, Tasks: g.Count(),
                Of: g.Select(m => m!.Split("-of-") is [_, var n] && int.TryParse(n, out var c) ? c : 1).Max(),
                Started: g.Min(m => File.GetLastWriteTimeUtc(Path.Combine(dir, "_tasks", m!)))))
                .OrderBy(p => Enum.TryParse<PhaseKind>(p.Phase.Split('-')[0], ignoreCase: true, out var kind) ? (int)kind : int.MaxValue)
                .ThenBy(p => p.Started).ToList();
            var stats = File.Exists(Path.Combine(dir, "stats.json")) ? JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "stats.json"))) : null;
            report.Add(new JsonObject
            {
                ["pipeline"] = Path.GetFileName(dir), ["shards"] = inputs, ["shards_done"] = done, ["finished"] = stats is not null,
                ["phases"] = new JsonObject(phases.Select(p => KeyValuePair.Create(p.Phase, (JsonNode?)$"{p.Tasks}/{p.Of}"))),
                ["input"] = stats?["input"]?.GetValue<long>(), ["kept"] = stats?["kept"]?.GetValue<long>(),
            });
            if (!json)
                Console.Out.WriteLine($"{Path.GetFileName(dir),-12} {(stats is not null ? "finished" : "running "),-9} shards {done}/{inputs}" +
                    (phases.Count > 0 ? "  phases " + string.Join(", ", phases.Select(p => $"{p.Phase} {p.Tasks}/{p.Of}")) : "") +
                    (stats is not null ? $"  {stats["input"]!.GetValue<long>():N0} in → {stats["kept"]!.GetValue<long>():N0} kept" : ""));
        }
        if (json) Console.Out.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return ExitCodes.Ok;
    }
}
