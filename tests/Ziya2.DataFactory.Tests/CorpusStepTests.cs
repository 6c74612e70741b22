using System.Text;
using System.Text.Json.Nodes;
using Ziya2.Data;
using Ziya2.DataFactory.Pipeline;
using Ziya2.DataFactory.Reading;

namespace Ziya2.DataFactory.Tests;

/// <summary>Keeps the first document (in input order) of each distinct text; counts its commits.</summary>
sealed class FirstOfEachText : ICorpusDataFilter
{
    public static int Commits;
    readonly List<string> _seen = [];
    HashSet<(int, long)> _drop = [];

    public void Observe(Document d, DocumentPosition p) => _seen.Add($"{p.Shard}\t{p.Record}\t{d.Text}");
    public byte[] SaveObservations() => Encoding.UTF8.GetBytes(string.Join('\n', _seen));

    public byte[] Decide(IReadOnlyList<byte[]> observations)
    {
        var first = new HashSet<string>();
        var drop = new List<string>();
        foreach (var o in observations)
            foreach (var line in Encoding.UTF8.GetString(o).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split('\t', 3);
                if (!first.Add(parts[2])) drop.Add(parts[0] + "\t" + parts[1]);
            }
        return Encoding.UTF8.GetBytes(string.Join('\n', drop));
    }

    public void UseDecision(byte[] decision) =>
        _drop = Encoding.UTF8.GetString(decision).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t')).Select(p => (int.Parse(p[0]), long.Parse(p[1]))).ToHashSet();

    public FilterDecision Apply(Document d, DocumentPosition p) => _drop.Contains((p.Shard, p.Record)) ? FilterDecision.Drop("duplicate") : FilterDecision.Keep();

    public void Commit(byte[] decision) => Interlocked.Increment(ref Commits);
}

public class CorpusStepTests
{
    [Fact]
    public void Corpus_steps_decide_over_all_shards_in_input_order_see_only_survivors_and_commit_once()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.Combine("in"));
        // "b" and "c" appear in both shards; the spam copy of "d" in shard 0 is dropped before the corpus step sees it.
        File.WriteAllText(tmp.Combine("in", "s0.jsonl"), "{\"id\":\"0a\",\"text\":\"a\"}\n{\"id\":\"0b\",\"text\":\"b\"}\nnot json\n{\"id\":\"0d\",\"text\":\"d spam\"}\n{\"id\":\"0c\",\"text\":\"c\"}\n");
        File.WriteAllText(tmp.Combine("in", "s1.jsonl"), "{\"id\":\"1c\",\"text\":\"c\"}\n{\"id\":\"1b\",\"text\":\"b\"}\n{\"id\":\"1d\",\"text\":\"d spam\"}\n{\"id\":\"1e\",\"text\":\"b\"}\n");
        var shards = InputShard.Expand([tmp.Combine("in")]);
        var pipeline = new DataPipeline([new PipelineStep("spam", () => new SpamFilter()), new PipelineStep("dedup", () => new FirstOfEachText())],
            new PipelineOptions { Parallelism = 2 });
        FirstOfEachText.Commits = 0;
        var result = pipeline.Run(shards, tmp.Combine("out"), "fp");

        var kept = Read(tmp.Combine("out", "kept")).Select(o => o["id"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(["0a", "0b", "0c"], kept);
        var dedup = result.Stats.Steps.Single(s => s.Name == "dedup");
        Assert.Equal((6, 3), (dedup.Input, dedup.Reasons["duplicate"]));
        Assert.Equal(1, FirstOfEachText.Commits);
        Assert.True(File.Exists(tmp.Combine("out", "_corpus", "01-dedup.bin")));

        // A finished run resumes to nothing and does not commit again; a missing shard output is redone with the
        // kept decision, not a new one.
        Assert.Equal(2, pipeline.Run(shards, tmp.Combine("out"), "fp").ShardsSkipped);
        Assert.Equal(1, FirstOfEachText.Commits);
        File.Delete(tmp.Combine("out", "_done", "s1.jsonl.json"));
        File.WriteAllText(tmp.Combine("out", "_corpus", "01-dedup.bin"), "0\t0");   // the kept decision now drops "0a" only
        var redo = pipeline.Run(shards, tmp.Combine("out"), "fp");
        Assert.Equal(1, redo.ShardsSkipped);
        Assert.Contains("1b", Read(tmp.Combine("out", "kept")).Select(o => o["id"]!.GetValue<string>()));
    }

    static List<JsonObject> Read(string dir) =>
        Directory.GetFiles(dir, "*.jsonl.zst").SelectMany(f =>
        {
            using var s = new ZstdSharp.DecompressionStream(File.OpenRead(f));
            using var r = new StreamReader(s);
            return r.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        }).ToList();
}
