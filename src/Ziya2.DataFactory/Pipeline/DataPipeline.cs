using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ziya2.Data;
using Ziya2.DataFactory.Reading;
using Ziya2.Events;
using Ziya2.DataFactory.Writing;

namespace Ziya2.DataFactory.Pipeline;

/// <summary>How a pipeline runs.</summary>
public sealed class PipelineOptions
{
    /// <summary>The pipeline's name in the events it publishes (progress lines, summaries).</summary>
    public string Name { get; set; } = "pipeline";
    /// <summary>Uncompressed bytes per output file before a new one starts.</summary>
    public long MaxShardBytes { get; set; } = 256L << 20;
    /// <summary>Longest accepted JSON line (or text file); longer ones are rejected without being held in memory.</summary>
    public int MaxLineBytes { get; set; } = 64 << 20;
    /// <summary>Shards processed at once.</summary>
    public int Parallelism { get; set; } = Environment.ProcessorCount;
    /// <summary>Reuse an output directory written by a different pipeline (its previous results are deleted).</summary>
    public bool Force { get; set; }
    public FieldMapping Fields { get; set; } = new();
    /// <summary>Legacy encodings tried when bytes are not UTF-8 (empty: reject as invalid UTF-8).</summary>
    public List<string> LegacyEncodings { get; set; } = ["gb18030", "big5"];
}

/// <summary>A finished run.</summary>
public sealed record PipelineResult(PipelineStats Stats, int ShardsSkipped, string OutputDirectory);

/// <summary>
/// Runs documents through steps, shard by shard in parallel: every document ends in <c>kept/</c> or, with its reason
/// and step, in <c>rejected/</c>. Output per shard is deterministic; a shard is done when its marker in <c>_done/</c>
/// exists, so an interrupted run resumes where it stopped and produces the same bytes. A different pipeline
/// (fingerprint) in the same output directory is refused unless forced. Progress goes onto the event bus given to
/// <see cref="Run"/>: <see cref="RunEvents.PipelineStart"/>, <see cref="RunEvents.ShardEnd"/> per shard (from the
/// worker that finished it) and <see cref="RunEvents.PipelineEnd"/>, all named <see cref="PipelineOptions.Name"/>.
/// </summary>
public sealed class DataPipeline(IReadOnlyList<PipelineStep> steps, PipelineOptions options)
{
    public const string ReadStep = "read";
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public PipelineResult Run(IReadOnlyList<InputShard> shards, string outputDirectory, string fingerprint,
        IEventBus? events = null, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var output = Path.GetFullPath(outputDirectory);
        string kept = Path.Combine(output, "kept"), rejected = Path.Combine(output, "rejected"), done = Path.Combine(output, "_done");
        PrepareOutput(output, fingerprint, shards);
        foreach (var dir in new[] { kept, rejected, done }) Directory.CreateDirectory(dir);
        foreach (var tmp in Directory.EnumerateFiles(output, "*.tmp", SearchOption.AllDirectories)) File.Delete(tmp);   // leftovers of a killed run

        var results = new PipelineStats?[shards.Count];
        int skipped = 0;
        for (int i = 0; i < shards.Count; i++)
        {
            var marker = Path.Combine(done, shards[i].Name + ".json");
            if (File.Exists(marker)) { results[i] = JsonSerializer.Deserialize<PipelineStats>(File.ReadAllText(marker)); skipped++; }
        }
        events?.Publish(new RunEvent(RunEvents.PipelineStart, -1, options.Name, new Dictionary<string, double> { ["shards"] = shards.Count, ["done"] = skipped })
            { Detail = output });
        // Corpus steps decide between two passes; their decisions are kept, so a resumed run decides identically.
        var corpus = Path.Combine(output, "_corpus");
        var decisions = new byte[]?[steps.Count];
        if (results.Any(r => r is null))
            for (int s = 0; s < steps.Count; s++)
                if (IsCorpusStep(s)) decisions[s] = LoadOrDecide(s, shards, decisions, corpus, cancellation);

        Parallel.For(0, shards.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = cancellation }, i =>
        {
            if (results[i] is not null) return;
            var stats = RunShard(shards[i], i, kept, rejected, decisions, cancellation);
            stats.Reconcile($"shard {shards[i].Name}");
            AtomicText.Write(Path.Combine(done, shards[i].Name + ".json"), JsonSerializer.Serialize(stats, Indented));
            results[i] = stats;
            events?.Publish(new RunEvent(RunEvents.ShardEnd, i, options.Name, new Dictionary<string, double>
                { ["input"] = stats.Input, ["kept"] = stats.Kept, ["rejected"] = stats.Rejected }) { Detail = shards[i].Name });
        });

        var total = new PipelineStats();
        foreach (var r in results) total.Add(r!);
        total.Reconcile("run");
        CommitCorpusSteps(corpus, decisions);
        total.Seconds = clock.Elapsed.TotalSeconds;
        AtomicText.Write(Path.Combine(output, "stats.json"), JsonSerializer.Serialize(total, Indented));
        AtomicText.Write(Path.Combine(output, "funnel.svg"), FunnelChart.Svg(total));
        events?.Publish(new RunEvent(RunEvents.PipelineEnd, -1, options.Name, new Dictionary<string, double>
            { ["input"] = total.Input, ["kept"] = total.Kept, ["rejected"] = total.Rejected, ["seconds"] = total.Seconds }) { Detail = output });
        return new PipelineResult(total, skipped, output);
    }

    void PrepareOutput(string output, string fingerprint, IReadOnlyList<InputShard> shards)
    {
        var manifest = Path.Combine(output, "pipeline.json");
        if (File.Exists(manifest))
        {
            var previous = JsonNode.Parse(File.ReadAllText(manifest))?["fingerprint"]?.GetValue<string>();
            if (previous == fingerprint) return;
            if (!options.Force)
                throw new PipelineConflictException($"{output} holds the output of a different pipeline or input set; use another output directory, or force to replace it");
            foreach (var dir in new[] { "kept", "rejected", "_done", "_corpus" }) if (Directory.Exists(Path.Combine(output, dir))) Directory.Delete(Path.Combine(output, dir), recursive: true);
        }
        Directory.CreateDirectory(output);
        AtomicText.Write(manifest, new JsonObject
        {
            ["fingerprint"] = fingerprint,
            ["steps"] = new JsonArray(steps.Select(s => (JsonNode)s.Name).ToArray()),
            ["inputs"] = new JsonArray(shards.Select(s => (JsonNode)s.Path).ToArray()),
        }.ToJsonString(Indented));
    }

    bool[]? _corpusSteps;

    /// <summary>Whether step <paramref name="s"/> is an <see cref="ICorpusDataFilter"/> (found by building one instance of each step).</summary>
    bool IsCorpusStep(int s)
    {
        _corpusSteps ??= steps.Select(step =>
        {
            var probe = step.Create();
            (probe as IDisposable)?.Dispose();
            return probe is ICorpusDataFilter;
        }).ToArray();
        return _corpusSteps[s];
    }

    string DecisionPath(string corpusDir, int s) => Path.Combine(corpusDir, $"{s:D2}-{steps[s].Name}.bin");

    /// <summary>
    /// Pass 1 for corpus step <paramref name="s"/>: every shard runs the steps before it (earlier corpus steps with
    /// their decisions) and shows the survivors to a fresh observer; one instance then decides from all observations
    /// in input order. The decision is written atomically and reused when present.
    /// </summary>
    byte[] LoadOrDecide(int s, IReadOnlyList<InputShard> shards, byte[]?[] decisions, string corpusDir, CancellationToken cancellation)
    {
        var path = DecisionPath(corpusDir, s);
        if (File.Exists(path)) return File.ReadAllBytes(path);
        var observations = new byte[shards.Count][];
        Parallel.For(0, shards.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = cancellation }, i =>
        {
            var instances = CreateInstances(s, decisions);
            var observer = (ICorpusDataFilter)steps[s].Create();
            try
            {
                Walk(shards[i], i, instances, null, cancellation, onMalformed: _ => { }, onDone: (_, doc, position, dropped) =>
                {
                    if (dropped is null) observer.Observe(doc, position);
                });
                observations[i] = observer.SaveObservations();
            }
            finally { Dispose(instances); (observer as IDisposable)?.Dispose(); }
        });
        var decider = (ICorpusDataFilter)steps[s].Create();
        try
        {
            var decision = decider.Decide(observations);
            Directory.CreateDirectory(corpusDir);
            File.WriteAllBytes(path + ".tmp", decision);
            File.Move(path + ".tmp", path, overwrite: true);
            return decision;
        }
        finally { (decider as IDisposable)?.Dispose(); }
    }

    /// <summary>After a complete run: each corpus step commits once (a marker records it, so a re-run does not commit twice).</summary>
    void CommitCorpusSteps(string corpusDir, byte[]?[] decisions)
    {
        for (int s = 0; s < steps.Count; s++)
        {
            if (!IsCorpusStep(s)) continue;
            var marker = Path.ChangeExtension(DecisionPath(corpusDir, s), ".committed");
            if (File.Exists(marker)) continue;
            var decision = decisions[s] ?? File.ReadAllBytes(DecisionPath(corpusDir, s));
            var instance = (ICorpusDataFilter)steps[s].Create();
            try { instance.Commit(decision); }
            finally { (instance as IDisposable)?.Dispose(); }
            AtomicText.Write(marker, DateTime.UtcNow.ToString("O"));
        }
    }

    /// <summary>Instances of the first <paramref name="count"/> steps; corpus steps get their decisions.</summary>
    List<(string Name, IDataFilter Filter)> CreateInstances(int count, byte[]?[] decisions)
    {
        var instances = new List<(string, IDataFilter)>(count);
        for (int s = 0; s < count; s++)
        {
            var filter = steps[s].Create();
            if (filter is ICorpusDataFilter corpus) corpus.UseDecision(decisions[s] ?? throw new InvalidOperationException($"step {steps[s].Name} has no decision"));
            instances.Add((steps[s].Name, filter));
        }
        return instances;
    }

    static void Dispose(List<(string Name, IDataFilter Filter)> instances)
    {
        foreach (var (_, f) in instances) (f as IDisposable)?.Dispose();
    }

    PipelineStats RunShard(InputShard shard, int shardIndex, string keptDir, string rejectedDir, byte[]?[] decisions, CancellationToken cancellation)
    {
        // A shard that was renamed into place but has no marker was interrupted: start it over.
        foreach (var dir in new[] { keptDir, rejectedDir })
            foreach (var stale in Directory.EnumerateFiles(dir, shard.Name + "-*.jsonl.zst")) File.Delete(stale);

        var instances = CreateInstances(steps.Count, decisions);
        try
        {
            var stats = new PipelineStats { Shards = 1, Steps = [new StepStats { Name = ReadStep }, .. steps.Select(s => new StepStats { Name = s.Name })] };
            using var keptWriter = new ShardWriter(keptDir, shard.Name, options.MaxShardBytes);
            using var rejectedWriter = new ShardWriter(rejectedDir, shard.Name, options.MaxShardBytes);
            Walk(shard, shardIndex, instances, stats, cancellation,
                onMalformed: bad => rejectedWriter.Write(new JsonObject
                {
                    ["raw"] = bad.Raw, ["reason"] = bad.Reason, ["detail"] = bad.Detail, ["step"] = ReadStep,
                    ["source_file"] = bad.Origin.File, ["source_line"] = bad.Origin.Line,
                }),
                onDone: (parsed, doc, _, dropped) =>
                {
                    if (dropped is { } d)
                    {
                        stats.Rejected++;
                        var r = (JsonObject)parsed.Fields.DeepClone();
                        r["reason"] = d.Reason; r["step"] = d.Step;
                        r["source_file"] = parsed.Origin.File; r["source_line"] = parsed.Origin.Line;
                        rejectedWriter.Write(r);
                    }
                    else
                    {
                        stats.Kept++;
                        keptWriter.Write(Output(parsed.Fields, doc));
                    }
                });
            keptWriter.Complete();
            rejectedWriter.Complete();
            return stats;
        }
        finally { Dispose(instances); }
    }

    /// <summary>
    /// Reads a shard and sends each document through <paramref name="instances"/> until one drops it; counts into
    /// <paramref name="stats"/> when given (pass 2) and reports every record's end to the callbacks.
    /// </summary>
    void Walk(InputShard shard, int shardIndex, List<(string Name, IDataFilter Filter)> instances, PipelineStats? stats, CancellationToken cancellation,
        Action<MalformedRecord> onMalformed, Action<ParsedRecord, Document, DocumentPosition, (string Step, string Reason)?> onDone)
    {
        var reader = new ShardReader(options.Fields, options.MaxLineBytes, new LegacyEncodings(options.LegacyEncodings));
        long index = -1;
        using var records = reader.Read(shard).GetEnumerator();
        while (true)
        {
            long readStarted = Stopwatch.GetTimestamp();
            if (!records.MoveNext()) break;
            var record = records.Current;
            var position = new DocumentPosition(shardIndex, ++index);
            if (index % 1024 == 0) cancellation.ThrowIfCancellationRequested();
            var read = stats?.Steps[0];
            if (stats is not null)
            {
                read!.Seconds += Stopwatch.GetElapsedTime(readStarted).TotalSeconds;   // reading, decompressing, parsing
                stats.Input++;
                read.Input++;
            }
            if (record is MalformedRecord bad)
            {
                if (stats is not null)
                {
                    read!.Dropped++;
                    read.Reasons[bad.Reason] = read.Reasons.GetValueOrDefault(bad.Reason) + 1;
                    stats.Malformed++; stats.Rejected++;
                }
                onMalformed(bad);
                continue;
            }
            var parsed = (ParsedRecord)record;
            var doc = parsed.Document;
            if (read is not null) { read.Kept++; Count(read, doc, doc); }
            (string Step, string Reason)? dropped = null;
            for (int s = 0; s < instances.Count && dropped is null; s++)
            {
                var st = stats?.Steps[s + 1];
                var before = doc;
                FilterDecision decision;
                long started = Stopwatch.GetTimestamp();
                try { decision = instances[s].Filter is ICorpusDataFilter corpus ? corpus.Apply(doc, position) : instances[s].Filter.Apply(doc); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    decision = FilterDecision.Drop($"error: {e.GetType().Name}: {e.Message}");
                }
                if (st is not null) { st.Input++; st.Seconds += Stopwatch.GetElapsedTime(started).TotalSeconds; }
                switch (decision.Action)
                {
                    case FilterAction.Drop:
                        if (st is not null)
                        {
                            st.Dropped++;
                            st.Reasons[decision.Reason!] = st.Reasons.GetValueOrDefault(decision.Reason!) + 1;
                            Count(st, before, null);
                        }
                        dropped = (instances[s].Name, decision.Reason!);
                        break;
                    case FilterAction.Rewrite:
                        doc = decision.Document!;
                        if (st is not null) { st.Kept++; st.Rewritten++; Count(st, before, doc); }
                        break;
                    default:
                        if (st is not null) { st.Kept++; Count(st, before, doc); }
                        break;
                }
            }
            onDone(parsed, doc, position, dropped);
        }
    }

    /// <summary>Characters (UTF-16 code units) and UTF-8 bytes into and out of a step; nothing out when dropped.</summary>
    static void Count(StepStats st, Document before, Document? after)
    {
        st.CharsIn += before.Text.Length; st.BytesIn += Encoding.UTF8.GetByteCount(before.Text);
        if (after is not null) { st.CharsOut += after.Text.Length; st.BytesOut += Encoding.UTF8.GetByteCount(after.Text); }
    }

    /// <summary>The original fields with the processed text and identity, plus the attributes steps wrote.</summary>
    JsonObject Output(JsonObject original, Document doc)
    {
        var o = (JsonObject)original.DeepClone();
        o[options.Fields.Id] = doc.Id;
        o[options.Fields.Text] = doc.Text;
        if (doc.Url is not null) o[options.Fields.Url] = doc.Url;
        if (doc.Source is not null) o[options.Fields.Source] = doc.Source;
        if (doc.Language is not null) o[options.Fields.Language] = doc.Language;
        if (doc.Attributes.Count > 0)
        {
            var attributes = o["attributes"] as JsonObject ?? new JsonObject();
            foreach (var (k, v) in doc.Attributes) attributes[k] = JsonValue.Create(v);
            o["attributes"] = attributes;
        }
        return o;
    }

}

/// <summary>The output directory belongs to another pipeline.</summary>
public sealed class PipelineConflictException(string message) : Exception(message);
