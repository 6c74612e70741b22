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

/// <summary>Keeps documents whose length is at most the median, handing each length from pass 1 to pass 2; counts both ways of applying.</summary>
sealed class ShortHalf : ICarryingCorpusDataFilter
{
    public static int Carried, Afresh;
    readonly List<int> _lengths = [];
    double _median;

    public double ObserveAndCarry(Document d, DocumentPosition p) { _lengths.Add(d.Text.Length); return d.Text.Length; }
    public byte[] SaveObservations() => Encoding.UTF8.GetBytes(string.Join(',', _lengths));
    public byte[] Decide(IReadOnlyList<byte[]> observations)
    {
        var all = observations.SelectMany(o => Encoding.UTF8.GetString(o).Split(',', StringSplitOptions.RemoveEmptyEntries)).Select(int.Parse).Order().ToList();
        return Encoding.UTF8.GetBytes(all[all.Count / 2].ToString());
    }
    public void UseDecision(byte[] decision) => _median = int.Parse(Encoding.UTF8.GetString(decision));
    public FilterDecision Apply(Document d, DocumentPosition p) { Interlocked.Increment(ref Afresh); return Decide(d.Text.Length); }
    public FilterDecision Apply(Document d, DocumentPosition p, double carried) { Interlocked.Increment(ref Carried); return Decide(carried); }
    FilterDecision Decide(double length) => length <= _median ? FilterDecision.Keep() : FilterDecision.Drop("long");
}

public class CorpusStepTests
{
    [Fact]
    public void A_carrying_step_gets_pass_1_numbers_in_pass_2_and_decides_alone_the_same_without_them()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.Combine("in"));
        File.WriteAllText(tmp.Combine("in", "s0.jsonl"), "{\"id\":\"0a\",\"text\":\"a\"}\nnot json\n{\"id\":\"0b\",\"text\":\"bbbb\"}\n{\"id\":\"0c\",\"text\":\"cc\"}\n");
        File.WriteAllText(tmp.Combine("in", "s1.jsonl"), "{\"id\":\"1d\",\"text\":\"dddddd\"}\n{\"id\":\"1e\",\"text\":\"e\"}\n");
        var shards = InputShard.Expand([tmp.Combine("in")]);
        DataPipeline Pipeline() => new([new PipelineStep("short", () => new ShortHalf())], new PipelineOptions { Parallelism = 2 });

        (ShortHalf.Carried, ShortHalf.Afresh) = (0, 0);
        Pipeline().Run(shards, tmp.Combine("carried"), "fp");
        Assert.Equal((5, 0), (ShortHalf.Carried, ShortHalf.Afresh));
        var kept = Read(tmp.Combine("carried", "kept")).Select(o => o["id"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(["0a", "0c", "1e"], kept);   // lengths 1, 2, 1 against the median 2

        // Observations without their numbers (a run before carrying, a lost file): the step decides alone, to the same end.
        var phases = Pipeline().Phases();
        (ShortHalf.Carried, ShortHalf.Afresh) = (0, 0);
        foreach (var phase in phases.Take(2)) Pipeline().RunPhase(phase, PipelineTask.Whole, shards, tmp.Combine("afresh"), "fp");
        var carries = Directory.GetFiles(tmp.Combine("afresh"), "*.carry", SearchOption.AllDirectories);
        Assert.Equal(2, carries.Length);
        foreach (var f in carries) File.Delete(f);
        foreach (var phase in phases.Skip(2)) Pipeline().RunPhase(phase, PipelineTask.Whole, shards, tmp.Combine("afresh"), "fp");
        Assert.Equal((0, 5), (ShortHalf.Carried, ShortHalf.Afresh));
        Assert.Equal(kept, Read(tmp.Combine("afresh", "kept")).Select(o => o["id"]!.GetValue<string>()).Order().ToList());
    }

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

    [Fact]
    public void Tasks_run_the_phases_separately_and_write_the_bytes_one_process_writes()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.Combine("in"));
        for (int f = 0; f < 7; f++)   // seven files, texts repeated across them: duplicates cross task boundaries
            File.WriteAllLines(tmp.Combine("in", $"f{f}.jsonl"), Enumerable.Range(0, 20).Select(k =>
                $"{{\"id\":\"{f}-{k}\",\"text\":\"{(k % 3 == 0 ? "spam " : "")}text {(f * 7 + k) % 23}\"}}"));
        var shards = InputShard.Expand([tmp.Combine("in")]);
        DataPipeline Pipeline() => new([new PipelineStep("spam", () => new SpamFilter()), new PipelineStep("dedup", () => new FirstOfEachText())],
            new PipelineOptions { Parallelism = 2 });
        FirstOfEachText.Commits = 0;
        var whole = Pipeline().Run(shards, tmp.Combine("whole"), "fp");

        // Three tasks, each phase by a new instance (as separate processes would), shards 0,3,6 / 1,4 / 2,5.
        var phases = Pipeline().Phases();
        Assert.Equal(["observe:dedup", "decide:dedup", "apply", "finish"], phases.Select(p => p.ToString()));
        var output = tmp.Combine("tasks");
        var observe = phases[0];
        Pipeline().RunPhase(observe, PipelineTask.Of(0, 3), shards, output, "fp");
        Pipeline().RunPhase(observe, PipelineTask.Of(2, 3), shards, output, "fp");
        // Deciding before task 1 observed its shards is refused, naming the task; nothing is written.
        var e = Assert.Throws<PipelinePhaseException>(() => Pipeline().RunPhase(phases[1], PipelineTask.Of(0, 3), shards, output, "fp"));
        Assert.Contains("2 shard(s) have no observations (task 1 of 3): f1.jsonl, f4.jsonl", e.Message);
        Assert.False(File.Exists(Path.Combine(output, "_corpus", "01-dedup.bin")));
        Pipeline().RunPhase(observe, PipelineTask.Of(1, 3), shards, output, "fp");
        Pipeline().RunPhase(phases[1], PipelineTask.Of(0, 3), shards, output, "fp");
        Assert.Throws<ArgumentException>(() => Pipeline().RunPhase(phases[1], PipelineTask.Of(1, 3), shards, output, "fp"));   // decide runs once, as task 0
        for (int t = 0; t < 3; t++) Pipeline().RunPhase(phases[2], PipelineTask.Of(t, 3), shards, output, "fp");
        Assert.Equal(7, Directory.GetFiles(Path.Combine(output, "_done")).Length);
        Assert.Equal(1, FirstOfEachText.Commits);   // only the whole run's: a task's finish commits
        var merged = Pipeline().RunPhase(phases[3], PipelineTask.Of(0, 3), shards, output, "fp")!;
        Assert.Equal(2, FirstOfEachText.Commits);

        AssertSameShards(tmp.Combine("whole"), output);
        Assert.Equal((whole.Stats.Input, whole.Stats.Kept, whole.Stats.Rejected), (merged.Stats.Input, merged.Stats.Kept, merged.Stats.Rejected));
        Assert.Equal(whole.Stats.Steps.Select(st => (st.Name, st.Kept, st.Dropped)), merged.Stats.Steps.Select(st => (st.Name, st.Kept, st.Dropped)));
        Assert.True(File.Exists(Path.Combine(output, "_tasks", "apply.00002-of-00003")));
        Assert.False(Directory.Exists(Path.Combine(output, "_corpus", "01-dedup")));   // observations go once decided and finished; the decision stays
        Assert.True(File.Exists(Path.Combine(output, "_corpus", "01-dedup.bin")));

        // A shard another process is writing (its lease held) is left alone, and the phase says so.
        File.Delete(Path.Combine(output, "_done", "f1.jsonl.json"));
        using (new FileStream(Path.Combine(output, "_leases", "f1.jsonl.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var busy = Assert.Throws<PipelinePhaseException>(() => Pipeline().RunPhase(phases[2], PipelineTask.Of(1, 3), shards, output, "fp"));
            Assert.Contains("being written by another process (f1.jsonl", busy.Message);
            Assert.False(File.Exists(Path.Combine(output, "_done", "f1.jsonl.json")));
        }
        Pipeline().RunPhase(phases[2], PipelineTask.Of(1, 3), shards, output, "fp");
        Assert.True(File.Exists(Path.Combine(output, "_done", "f1.jsonl.json")));

        // A re-launched task finds its work done; finishing without every shard is refused.
        Assert.Null(Pipeline().RunPhase(phases[2], PipelineTask.Of(1, 3), shards, output, "fp"));
        File.Delete(Path.Combine(output, "_done", "f4.jsonl.json"));
        e = Assert.Throws<PipelinePhaseException>(() => Pipeline().RunPhase(phases[3], PipelineTask.Of(0, 3), shards, output, "fp"));
        Assert.Contains("f4.jsonl", e.Message);
    }

    /// <summary>Two pipeline outputs hold the same kept and rejected shard files, byte for byte.</summary>
    internal static void AssertSameShards(string expected, string actual)
    {
        foreach (var dir in new[] { "kept", "rejected" })
        {
            var a = Directory.GetFiles(Path.Combine(expected, dir)).Order(StringComparer.Ordinal).ToList();
            var b = Directory.GetFiles(Path.Combine(actual, dir)).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(a.Select(Path.GetFileName), b.Select(Path.GetFileName));
            Assert.All(a.Zip(b), p => Assert.Equal(File.ReadAllBytes(p.First), File.ReadAllBytes(p.Second)));
        }
    }

    static List<JsonObject> Read(string dir) =>
        Directory.GetFiles(dir, "*.jsonl.zst").SelectMany(f =>
        {
            using var s = new ZstdSharp.DecompressionStream(File.OpenRead(f));
            using var r = new StreamReader(s);
            return r.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        }).ToList();
}

/// <summary>
/// A partitioned corpus step with two rounds: <c>text</c> (3 partitions by the text's hash) keeps the first document of
/// each text; <c>cap</c> (one partition) then keeps only the first <see cref="Cap"/> survivors in input order.
/// </summary>
sealed class FirstOfEachTextCapped : IPartitionedCorpusDataFilter
{
    public const int Cap = 9;
    public static int Commits;
    readonly List<(int Shard, long Record, string Text)> _seen = [];
    readonly Dictionary<(int, long), string> _drop = [];

    public IReadOnlyList<ReduceRound> Rounds => [new("text", 3), new("cap", 1)];

    public void Observe(Document d, DocumentPosition p) => _seen.Add((p.Shard, p.Record, d.Text));

    public void SaveObservations(CorpusRoutes routes)
    {
        foreach (var (shard, record, text) in _seen)
            Line(routes.ToRound(0, text.Sum(c => c) % 3), $"{shard}\t{record}\t{text}");
    }

    public void Reduce(int round, int partition, IReadOnlyList<byte[]> inputs, CorpusRoutes routes)
    {
        var rows = inputs.SelectMany(i => Encoding.UTF8.GetString(i).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            .Select(l => l.Split('\t', 3)).Select(p => (Shard: int.Parse(p[0]), Record: long.Parse(p[1]), Text: p.Length > 2 ? p[2] : ""))
            .OrderBy(r => r.Shard).ThenBy(r => r.Record).ToList();
        if (round == 0)
        {
            var first = new HashSet<string>();
            foreach (var r in rows)
                if (first.Add(r.Text)) Line(routes.ToRound(1, 0), $"{r.Shard}\t{r.Record}");
                else Line(routes.ToShard(r.Shard), $"{r.Record}\tduplicate");
            Line(routes.ToCommit(), $"{partition}:{first.Count}");
        }
        else
            foreach (var r in rows.Skip(Cap)) Line(routes.ToShard(r.Shard), $"{r.Record}\tover_cap");
    }

    public void UseDecision(int shard, IReadOnlyList<byte[]> parts)
    {
        foreach (var line in parts.SelectMany(p => Encoding.UTF8.GetString(p).Split('\n', StringSplitOptions.RemoveEmptyEntries)))
            _drop[(shard, long.Parse(line.Split('\t')[0]))] = line.Split('\t')[1];
    }

    public FilterDecision Apply(Document d, DocumentPosition p) => _drop.TryGetValue((p.Shard, p.Record), out var why) ? FilterDecision.Drop(why) : FilterDecision.Keep();

    public void Commit(int round, int partition, byte[] commit) => Interlocked.Increment(ref Commits);

    static void Line(Stream s, string line) => s.Write(Encoding.UTF8.GetBytes(line + "\n"));
}

public class PartitionedCorpusStepTests
{
    [Fact]
    public void Rounds_run_as_tasks_per_partition_refuse_missing_inputs_and_write_the_bytes_one_process_writes()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.Combine("in"));
        for (int f = 0; f < 5; f++)
            File.WriteAllLines(tmp.Combine("in", $"f{f}.jsonl"), Enumerable.Range(0, 12).Select(k => $"{{\"id\":\"{f}-{k}\",\"text\":\"text {(f * 5 + k) % 17}\"}}"));
        var shards = InputShard.Expand([tmp.Combine("in")]);
        DataPipeline Pipeline() => new([new PipelineStep("dedup", () => new FirstOfEachTextCapped())], new PipelineOptions { Parallelism = 2 });
        FirstOfEachTextCapped.Commits = 0;
        var whole = Pipeline().Run(shards, tmp.Combine("whole"), "fp");
        var dedup = whole.Stats.Steps.Single(s => s.Name == "dedup");
        Assert.Equal((60 - 17, 17 - FirstOfEachTextCapped.Cap), (dedup.Reasons["duplicate"], dedup.Reasons["over_cap"]));
        Assert.Equal(3, FirstOfEachTextCapped.Commits);   // the partitions of round text that committed something

        var phases = Pipeline().Phases();
        Assert.Equal(["observe:dedup", "decide:dedup@text", "decide:dedup@cap", "apply", "finish"], phases.Select(p => p.ToString()));
        Assert.Equal((3, 1), (phases[1].Partitions, phases[2].Partitions));
        Assert.Equal(phases[1], PipelinePhase.Parse("decide:dedup@text"));
        var output = tmp.Combine("tasks");
        Pipeline().RunPhase(phases[0], PipelineTask.Of(0, 2), shards, output, "fp");
        // A round before every shard was observed is refused, naming the observe task that has not finished.
        var missing = Assert.Throws<PipelinePhaseException>(() => Pipeline().RunPhase(phases[1], PipelineTask.Of(0, 3), shards, output, "fp"));
        Assert.Contains("2 shard(s) have no observations (task 1 of 2): f1.jsonl, f3.jsonl", missing.Message);
        Pipeline().RunPhase(phases[0], PipelineTask.Of(1, 2), shards, output, "fp");
        // A round's partition is its task: the count must be the partitions (or 0/1 for all of them).
        Assert.Throws<ArgumentException>(() => Pipeline().RunPhase(phases[1], PipelineTask.Of(0, 2), shards, output, "fp"));
        Pipeline().RunPhase(phases[1], PipelineTask.Of(2, 3), shards, output, "fp");
        Pipeline().RunPhase(phases[1], PipelineTask.Of(0, 3), shards, output, "fp");
        // The next round before partition 1 finished is refused, naming it, and writes nothing.
        var e = Assert.Throws<PipelinePhaseException>(() => Pipeline().RunPhase(phases[2], PipelineTask.Of(0, 1), shards, output, "fp"));
        Assert.Contains("partition(s) 1 of dedup@text have not finished", e.Message);
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(output, "_corpus"), "*", SearchOption.AllDirectories), f => f.Contains("1-cap"));
        Assert.Throws<PipelinePhaseException>(() => Pipeline().RunPhase(phases[3], PipelineTask.Of(0, 2), shards, output, "fp"));   // apply before deciding
        Pipeline().RunPhase(phases[1], PipelineTask.Of(1, 3), shards, output, "fp");
        Pipeline().RunPhase(phases[2], PipelineTask.Of(0, 1), shards, output, "fp");
        foreach (var t in new[] { 0, 1 }) Pipeline().RunPhase(phases[3], PipelineTask.Of(t, 2), shards, output, "fp");
        var merged = Pipeline().RunPhase(phases[4], PipelineTask.Of(0, 2), shards, output, "fp")!;
        Assert.Equal(6, FirstOfEachTextCapped.Commits);

        CorpusStepTests.AssertSameShards(tmp.Combine("whole"), output);
        Assert.Equal(whole.Stats.Steps.Select(st => (st.Name, st.Kept, st.Dropped)), merged.Stats.Steps.Select(st => (st.Name, st.Kept, st.Dropped)));
        Assert.True(File.Exists(Path.Combine(output, "_tasks", "decide-dedup@text.00001-of-00003")));
        // What rounds routed to each other goes once finished; the decisions stay, so a lost shard is redone the same.
        var rounds = Path.Combine(output, "_corpus", "00-dedup.rounds");
        Assert.Empty(Directory.GetFiles(rounds, "*.route", SearchOption.AllDirectories));
        Assert.Equal(4, Directory.GetFiles(rounds, "*.decision", SearchOption.AllDirectories).Length);
        File.Delete(Path.Combine(output, "_done", "f3.jsonl.json"));
        Pipeline().RunPhase(phases[3], PipelineTask.Of(1, 2), shards, output, "fp");
        Assert.Equal(File.ReadAllBytes(Directory.GetFiles(tmp.Combine("whole", "rejected"), "f3*").Single()), File.ReadAllBytes(Directory.GetFiles(Path.Combine(output, "rejected"), "f3*").Single()));
    }
}
