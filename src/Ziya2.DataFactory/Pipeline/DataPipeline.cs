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
public sealed record PipelineResult(PipelineStats Stats, int ShardsSkipped, string OutputDirectory)
{
    /// <summary>The result a finished pipeline left in <paramref name="outputDirectory"/> (its <c>stats.json</c>), as cluster tasks report it.</summary>
    public static PipelineResult Read(string outputDirectory) =>
        new(JsonSerializer.Deserialize<PipelineStats>(File.ReadAllText(Path.Combine(outputDirectory, "stats.json")))!, 0, outputDirectory);
}

/// <summary>
/// Runs documents through steps, shard by shard in parallel: every document ends in <c>kept/</c> or, with its reason
/// and step, in <c>rejected/</c>. Output per shard is deterministic; a shard is done when its marker in <c>_done/</c>
/// exists, so an interrupted run resumes where it stopped and produces the same bytes. A different pipeline
/// (fingerprint) in the same output directory is refused unless forced. Progress goes onto the event bus given to
/// <see cref="Run"/>: <see cref="RunEvents.PipelineStart"/>, <see cref="RunEvents.ShardEnd"/> per shard (from the
/// worker that finished it) and <see cref="RunEvents.PipelineEnd"/>, all named <see cref="PipelineOptions.Name"/>.
/// <para>
/// A run is a sequence of <see cref="Phases"/> — per corpus step, observe (every shard) then decide (once); then apply
/// (every shard) and finish (once) — and each phase can run as <see cref="PipelineTask"/> <c>I</c> of <c>N</c> in
/// separate processes that share only the output directory: the worker contract of cluster executors (Slurm job
/// arrays, Kubernetes Indexed Jobs). <see cref="Run"/> runs them all in this process through the same code, so N
/// tasks write exactly the bytes one process writes.
/// </para>
/// </summary>
public sealed class DataPipeline(IReadOnlyList<PipelineStep> steps, PipelineOptions options)
{
    public const string ReadStep = "read";
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The phases of this pipeline, in the order they must run (each after the previous one finished).</summary>
    public IReadOnlyList<PipelinePhase> Phases()
    {
        var phases = new List<PipelinePhase>();
        for (int s = 0; s < steps.Count; s++)
        {
            if (!IsCorpusStep(s)) continue;
            phases.Add(new(PhaseKind.Observe, steps[s].Name));
            if (Rounds(s) is { } rounds) phases.AddRange(rounds.Select(r => new PipelinePhase(PhaseKind.Decide, steps[s].Name, r.Name) { Partitions = r.Partitions }));
            else phases.Add(new(PhaseKind.Decide, steps[s].Name));
        }
        return [.. phases, new(PhaseKind.Apply), new(PhaseKind.Finish)];
    }

    /// <summary>Every phase, in this process, over every shard.</summary>
    public PipelineResult Run(IReadOnlyList<InputShard> shards, string outputDirectory, string fingerprint,
        IEventBus? events = null, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var output = Path.GetFullPath(outputDirectory);
        PrepareOutput(output, fingerprint, shards);
        var done = Enumerable.Range(0, shards.Count).Count(i => File.Exists(DoneMarker(output, shards[i])));
        events?.Publish(new RunEvent(RunEvents.PipelineStart, -1, options.Name, new Dictionary<string, double> { ["shards"] = shards.Count, ["done"] = done })
            { Detail = output });
        foreach (var phase in Phases().SkipLast(1))
            RunPhase(phase, PipelineTask.Whole, shards, output, fingerprint, events, cancellation);
        return Finish(shards, output, done, clock, events);
    }

    /// <summary>
    /// Runs one phase as <paramref name="task"/>: observe and apply touch only the task's shards (shard k belongs to task
    /// k mod N); decide and finish read every shard's result and refuse, naming the shards and tasks, when one is missing.
    /// A decide round of a partitioned step runs partition I as task I of its partitions (or all of them as task 0 of 1).
    /// A phase that finds its work done does nothing, so a re-launched task skips what it finished. Returns the merged
    /// result after finish, null otherwise.
    /// </summary>
    public PipelineResult? RunPhase(PipelinePhase phase, PipelineTask task, IReadOnlyList<InputShard> shards, string outputDirectory, string fingerprint,
        IEventBus? events = null, CancellationToken cancellation = default)
    {
        var output = Path.GetFullPath(outputDirectory);
        if (task.Count > 1 && options.Force) throw new ArgumentException("a task cannot replace another pipeline's output (force); clear the output directory first");
        PrepareOutput(output, fingerprint, shards);
        int step = phase.Step is null ? -1 : StepIndex(phase.Step);
        int round = phase.Round is null ? -1 : RoundIndex(step, phase.Round);
        if (round < 0 && phase.Kind is PhaseKind.Decide && Rounds(step) is { } rounds)
            throw new ArgumentException($"{steps[step].Name} decides in rounds: {string.Join(", ", rounds.Select(r => $"decide:{steps[step].Name}@{r.Name}"))}");
        if (round < 0 && phase.Kind is PhaseKind.Decide or PhaseKind.Finish && task.Index != 0)
            throw new ArgumentException($"{phase} runs once, as task 0, not as task {task}");
        var completions = Path.Combine(output, "_tasks");
        PipelineResult? result = null;
        switch (phase.Kind)
        {
            case PhaseKind.Observe: Observe(step, task, shards, output, cancellation); break;
            case PhaseKind.Decide when round >= 0: RunRound(phase, step, round, task, shards, output, cancellation); return null;
            case PhaseKind.Decide: Decide(step, task, shards, output); break;
            case PhaseKind.Apply: Apply(task, shards, output, events, cancellation); break;
            case PhaseKind.Finish: result = Finish(shards, output, 0, Stopwatch.StartNew(), events); break;
        }
        Directory.CreateDirectory(completions);
        AtomicFile.Write(Path.Combine(completions, phase.MarkerName(task)), DateTime.UtcNow.ToString("O"));
        return result;
    }

    /// <summary>
    /// A decide round: partition I as task I of the round's partitions, or every partition (in parallel threads) as task
    /// 0 of 1; each partition leaves its own marker.
    /// </summary>
    void RunRound(PipelinePhase phase, int step, int round, PipelineTask task, IReadOnlyList<InputShard> shards, string output, CancellationToken cancellation)
    {
        int partitions = Rounds(step)![round].Partitions;
        if (partitions == 1 ? task.Index != 0 : task.Count != 1 && task.Count != partitions)
            throw new ArgumentException($"{phase} has {partitions} partition(s): run it as tasks I/{partitions}, or all of them as 0/1, not as {task}");
        var mine = task.Count == 1 || partitions == 1 ? Enumerable.Range(0, partitions).ToList() : [task.Index];
        try
        {
            Parallel.ForEach(mine, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = cancellation },
                p => Reduce(step, round, p, shards, output));
        }
        catch (AggregateException e) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]); }
        var completions = Path.Combine(output, "_tasks");
        Directory.CreateDirectory(completions);
        foreach (var p in mine) AtomicFile.Write(Path.Combine(completions, phase.MarkerName(PipelineTask.Of(p, partitions))), DateTime.UtcNow.ToString("O"));
    }

    int RoundIndex(int step, string name)
    {
        var rounds = Rounds(step) ?? throw new ArgumentException($"{steps[step].Name} decides at once (decide:{steps[step].Name}), not in rounds");
        for (int r = 0; r < rounds.Count; r++) if (rounds[r].Name == name) return r;
        throw new ArgumentException($"{steps[step].Name} has no round '{name}' (its rounds: {string.Join(", ", rounds.Select(r => r.Name))})");
    }

    int StepIndex(string name)
    {
        for (int s = 0; s < steps.Count; s++) if (steps[s].Name == name && IsCorpusStep(s)) return s;
        throw new ArgumentException($"no corpus step named '{name}' in this pipeline (corpus steps: {string.Join(", ", Enumerable.Range(0, steps.Count).Where(IsCorpusStep).Select(i => steps[i].Name))})");
    }

    static string DoneMarker(string output, InputShard shard) => Path.Combine(output, "_done", shard.Name + ".json");
    static string ObservationPath(string output, int step, string stepName, InputShard shard) => Path.Combine(output, "_corpus", $"{step:D2}-{stepName}", shard.Name + ".bin");

    IEnumerable<int> Owned(PipelineTask task, int count) => Enumerable.Range(0, count).Where(task.Owns);

    /// <summary>
    /// How many tasks a per-task phase was split into, read from the markers its finished tasks left (a decide or a
    /// round runs as its own task count, so it cannot tell otherwise); null when none finished or it ran whole.
    /// </summary>
    static int? TasksOf(string output, PipelinePhase phase)
    {
        var completions = Path.Combine(output, "_tasks");
        if (!Directory.Exists(completions)) return null;
        var prefix = phase.MarkerName(PipelineTask.Whole)[..^"00000-of-00001".Length];
        var counts = Directory.EnumerateFiles(completions, prefix + "*").Select(f => Path.GetFileName(f)[prefix.Length..].Split("-of-"))
            .Select(p => p is [_, var n] && int.TryParse(n, out var c) ? c : 0).Where(c => c > 1).Distinct().ToList();
        return counts.Count == 1 ? counts[0] : null;
    }

    /// <summary>Shards with no result yet, for an error that tells which task did not finish.</summary>
    static string Missing(IReadOnlyList<InputShard> shards, IEnumerable<int> missing, string what, int? taskCount)
    {
        var list = missing.ToList();
        var tasks = taskCount is { } n && n > 1 ? $" (task{(list.Select(i => i % n).Distinct().Count() > 1 ? "s" : "")} {string.Join(", ", list.Select(i => i % n).Distinct().Take(10))} of {n})" : "";
        return $"{list.Count} shard(s) have no {what}{tasks}: {string.Join(", ", list.Take(5).Select(i => shards[i].Name))}{(list.Count > 5 ? ", …" : "")}";
    }

    /// <summary>
    /// Observe phase of corpus step <paramref name="s"/>: each owned shard runs the steps before it (earlier corpus
    /// steps with their decisions) and shows the survivors to a fresh observer, whose observations are written per
    /// shard. Skipped once the step has decided.
    /// </summary>
    void Observe(int s, PipelineTask task, IReadOnlyList<InputShard> shards, string output, CancellationToken cancellation)
    {
        if (Decided(output, s)) return;
        var decisions = LoadDecisions(output, s);
        var rounds = Rounds(s);
        Parallel.ForEach(Owned(task, shards.Count), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = cancellation }, i =>
        {
            var path = ObservationPath(output, s, steps[s].Name, shards[i]);
            if (File.Exists(path)) return;
            var instances = CreateInstances(s, decisions, i, output, shards[i]);
            var observer = (ICorpusDataFilter)steps[s].Create();
            var carried = observer is ICarryingCorpusDataFilter ? new List<(long, double)>() : null;
            try
            {
                Walk(shards[i], i, instances, null, cancellation, onMalformed: _ => { }, onDone: (_, doc, position, dropped) =>
                {
                    if (dropped is not null) return;
                    if (carried is not null) carried.Add((position.Record, ((ICarryingCorpusDataFilter)observer).ObserveAndCarry(doc, position)));
                    else observer.Observe(doc, position);
                });
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                if (carried is not null) CarriedValues.Write(CarriedValues.PathFor(path), carried);   // before the observations: see CarriedValues
                AtomicFile.Write(path, rounds is null ? observer.SaveObservations() : Routed((IPartitionedCorpusDataFilter)observer, steps[s].Name, rounds));
            }
            finally { Dispose(instances); (observer as IDisposable)?.Dispose(); }
        });
    }

    /// <summary>
    /// Every shard's observation file for corpus step <paramref name="s"/>, in input order; refuses, naming the shards
    /// and the observe task (from its markers, else <paramref name="tasks"/>), when one is missing.
    /// </summary>
    List<string> Observations(int s, IReadOnlyList<InputShard> shards, string output, string deciding, int? tasks)
    {
        var paths = shards.Select(shard => ObservationPath(output, s, steps[s].Name, shard)).ToList();
        var missing = Enumerable.Range(0, shards.Count).Where(i => !File.Exists(paths[i])).ToList();
        if (missing.Count > 0)
            throw new PipelinePhaseException($"cannot decide {deciding}: {Missing(shards, missing, "observations", TasksOf(output, new(PhaseKind.Observe, steps[s].Name)) ?? tasks)}; run (or re-run) the observe:{steps[s].Name} phase first");
        return paths;
    }

    /// <summary>Decide phase: one instance decides from every shard's observations, in input order; written atomically.</summary>
    void Decide(int s, PipelineTask task, IReadOnlyList<InputShard> shards, string output)
    {
        var path = DecisionPath(output, s);
        if (File.Exists(path)) return;
        var paths = Observations(s, shards, output, steps[s].Name, task.Count > 1 ? task.Count : null);
        var decider = (ICorpusDataFilter)steps[s].Create();
        try { AtomicFile.Write(path, decider.Decide([.. paths.Select(File.ReadAllBytes)])); }
        finally { (decider as IDisposable)?.Dispose(); }
    }

    /// <summary>
    /// Partition <paramref name="p"/> of round <paramref name="r"/> of partitioned step <paramref name="s"/>: reads its
    /// section of every observation and of every earlier round's partition, refusing (and writing nothing) when one is
    /// missing; writes what it routes on, then its decision — the decision file is the partition's completion.
    /// </summary>
    void Reduce(int s, int r, int p, IReadOnlyList<InputShard> shards, string output)
    {
        var rounds = Rounds(s)!;
        var (routePath, decisionPath) = (RoundPath(output, s, r, p, ".route"), RoundPath(output, s, r, p, ".decision"));
        if (File.Exists(decisionPath)) return;
        var name = $"{steps[s].Name}@{rounds[r].Name}";
        var producers = Observations(s, shards, output, name, null);
        for (int earlier = 0; earlier < r; earlier++)
        {
            var unfinished = Enumerable.Range(0, rounds[earlier].Partitions).Where(q => !File.Exists(RoundPath(output, s, earlier, q, ".decision"))).ToList();
            if (unfinished.Count > 0)
                throw new PipelinePhaseException($"cannot decide {name}: partition(s) {string.Join(", ", unfinished.Take(10))}{(unfinished.Count > 10 ? ", …" : "")} of " +
                    $"{steps[s].Name}@{rounds[earlier].Name} have not finished (task(s) I/{rounds[earlier].Partitions} of decide:{steps[s].Name}@{rounds[earlier].Name}); run them first");
            producers.AddRange(Enumerable.Range(0, rounds[earlier].Partitions).Select(q => RoundPath(output, s, earlier, q, ".route")));
        }
        var inputs = new List<byte[]>();
        foreach (var file in producers)
        {
            using var stream = File.OpenRead(file);
            try { if (CorpusRoutes.ReadRound(stream, r, p) is { Length: > 0 } section) inputs.Add(section); }
            catch (InvalidDataException e) { throw new PipelinePhaseException($"cannot decide {name}: {file}: {e.Message}; delete it and re-run the phase that wrote it"); }
        }
        var reducer = (IPartitionedCorpusDataFilter)steps[s].Create();
        var routes = new CorpusRoutes();
        try { reducer.Reduce(r, p, inputs, routes); }
        finally { (reducer as IDisposable)?.Dispose(); }
        CheckRoutes($"{steps[s].Name}: round {rounds[r].Name}", routes, rounds, r);
        Directory.CreateDirectory(Path.GetDirectoryName(routePath)!);
        AtomicFile.Write(routePath, routes.RoutesToBytes());
        AtomicFile.Write(decisionPath, routes.DecisionToBytes());
    }

    /// <summary>An observer's routed records, checked: observation only routes, to partitions that exist.</summary>
    static byte[] Routed(IPartitionedCorpusDataFilter observer, string step, IReadOnlyList<ReduceRound> rounds)
    {
        var routes = new CorpusRoutes();
        observer.SaveObservations(routes);
        if (routes.HasDecision) throw new InvalidOperationException($"{step}: observation routes records to rounds; it cannot decide about shards or commit");
        CheckRoutes($"{step}: observation", routes, rounds, -1);
        return routes.RoutesToBytes();
    }

    /// <summary>A producer after round <paramref name="after"/> (−1: observation) may route only to partitions of later rounds that exist.</summary>
    static void CheckRoutes(string producer, CorpusRoutes routes, IReadOnlyList<ReduceRound> rounds, int after)
    {
        foreach (var (round, partition) in routes.Rounds)
            if (round <= after || round >= rounds.Count || partition >= rounds[round].Partitions)
                throw new InvalidOperationException($"{producer} routed records to round {round}, partition {partition}: only partitions of later rounds can receive them ({rounds.Count} round(s))");
    }

    /// <summary>
    /// A corpus step's decision, as apply (and later steps' observers) use it: one file for a step that decides at once;
    /// for a partitioned step, every partition's decision file, of which each shard reads only its own part.
    /// </summary>
    sealed class StepDecision(byte[]? whole, IReadOnlyList<string> parts)
    {
        public void Use(ICorpusDataFilter filter, int shard)
        {
            if (whole is not null) { filter.UseDecision(whole); return; }
            var mine = new List<byte[]>();
            foreach (var part in parts)
            {
                using var stream = File.OpenRead(part);
                if (CorpusRoutes.ReadShard(stream, shard) is { Length: > 0 } bytes) mine.Add(bytes);
            }
            ((IPartitionedCorpusDataFilter)filter).UseDecision(shard, mine);
        }
    }

    /// <summary>The decisions of the corpus steps before <paramref name="before"/> (all of them by default); each must exist.</summary>
    StepDecision?[] LoadDecisions(string output, int before = int.MaxValue)
    {
        var decisions = new StepDecision?[steps.Count];
        for (int s = 0; s < Math.Min(before, steps.Count); s++)
        {
            if (!IsCorpusStep(s)) continue;
            if (!Decided(output, s)) throw new PipelinePhaseException($"corpus step {steps[s].Name} has not decided yet: run its observe and decide phases first");
            decisions[s] = Rounds(s) is { } rounds
                ? new StepDecision(null, [.. rounds.SelectMany((round, r) => Enumerable.Range(0, round.Partitions).Select(p => RoundPath(output, s, r, p, ".decision")))])
                : new StepDecision(File.ReadAllBytes(DecisionPath(output, s)), []);
        }
        return decisions;
    }

    /// <summary>Whether corpus step <paramref name="s"/> has decided: its decision file, or every partition of every round.</summary>
    bool Decided(string output, int s) => Rounds(s) is { } rounds
        ? rounds.Select((round, r) => Enumerable.Range(0, round.Partitions).All(p => File.Exists(RoundPath(output, s, r, p, ".decision")))).All(done => done)
        : File.Exists(DecisionPath(output, s));

    /// <summary>Apply phase: each owned shard without a marker runs through every step, writing its documents and its stats.</summary>
    void Apply(PipelineTask task, IReadOnlyList<InputShard> shards, string output, IEventBus? events, CancellationToken cancellation)
    {
        string kept = Path.Combine(output, "kept"), rejected = Path.Combine(output, "rejected");
        foreach (var dir in new[] { kept, rejected, Path.Combine(output, "_done") }) Directory.CreateDirectory(dir);
        var todo = Owned(task, shards.Count).Where(i => !File.Exists(DoneMarker(output, shards[i]))).ToList();
        if (todo.Count == 0) return;
        var decisions = LoadDecisions(output);
        var leases = Path.Combine(output, "_leases");
        Directory.CreateDirectory(leases);
        var busy = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.ForEach(todo, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = cancellation }, i =>
        {
            // One writer per shard: a task re-submitted while an old one still runs must not delete or interleave its
            // files. The lease is an exclusive lock (flock; NFS maps it to its own locks), released when the process dies.
            using var lease = TryLease(Path.Combine(leases, shards[i].Name + ".lock"));
            if (lease is null) { busy.Add(shards[i].Name); return; }
            if (File.Exists(DoneMarker(output, shards[i]))) return;   // finished by that other process meanwhile
            var stats = RunShard(shards[i], i, output, kept, rejected, decisions, cancellation);
            stats.Reconcile($"shard {shards[i].Name}");
            AtomicFile.Write(DoneMarker(output, shards[i]), JsonSerializer.Serialize(stats, Indented));
            events?.Publish(new RunEvent(RunEvents.ShardEnd, i, options.Name, new Dictionary<string, double>
                { ["input"] = stats.Input, ["kept"] = stats.Kept, ["rejected"] = stats.Rejected }) { Detail = shards[i].Name });
        });
        if (!busy.IsEmpty)
            throw new PipelinePhaseException($"{busy.Count} shard(s) are being written by another process ({string.Join(", ", busy.Order(StringComparer.Ordinal).Take(5))}; their leases in {leases} are held): wait for it, or stop it, then run this phase again");
    }

    static FileStream? TryLease(string path)
    {
        try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException) { return null; }
    }

    /// <summary>Finish phase: every shard's stats merged in input order, corpus steps committed once, stats.json and the funnel written.</summary>
    PipelineResult Finish(IReadOnlyList<InputShard> shards, string output, int skipped, Stopwatch clock, IEventBus? events)
    {
        var missing = Enumerable.Range(0, shards.Count).Where(i => !File.Exists(DoneMarker(output, shards[i]))).ToList();
        if (missing.Count > 0) throw new PipelinePhaseException($"cannot finish: {Missing(shards, missing, "output", TasksOf(output, new(PhaseKind.Apply)))}; run (or re-run) the apply phase for them");
        var total = new PipelineStats();
        foreach (var shard in shards) total.Add(JsonSerializer.Deserialize<PipelineStats>(File.ReadAllText(DoneMarker(output, shard)))!);
        total.Reconcile("run");
        CommitCorpusSteps(output);
        // Every task has finished: what killed processes left half-written can go, and so can the corpus steps'
        // observations (their decisions are kept; a redone shard needs only those).
        foreach (var tmp in Directory.EnumerateFiles(output, "*.tmp", SearchOption.AllDirectories)) File.Delete(tmp);
        for (int s = 0; s < steps.Count; s++)
        {
            if (!IsCorpusStep(s)) continue;
            if (Directory.Exists(Path.ChangeExtension(DecisionPath(output, s), null)))
                Directory.Delete(Path.ChangeExtension(DecisionPath(output, s), null), recursive: true);
            if (Rounds(s) is not null && Directory.Exists(RoundsDirectory(output, s)))
                foreach (var route in Directory.EnumerateFiles(RoundsDirectory(output, s), "*.route", SearchOption.AllDirectories)) File.Delete(route);
        }
        total.Seconds = clock.Elapsed.TotalSeconds;
        AtomicFile.Write(Path.Combine(output, "stats.json"), JsonSerializer.Serialize(total, Indented));
        AtomicFile.Write(Path.Combine(output, "funnel.svg"), FunnelChart.Svg(total));
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
            foreach (var dir in new[] { "kept", "rejected", "_done", "_corpus", "_tasks" }) if (Directory.Exists(Path.Combine(output, dir))) Directory.Delete(Path.Combine(output, dir), recursive: true);
            // stats.json says "finished" to executors and to the next pipeline: it must not outlive what it describes.
            foreach (var file in new[] { "stats.json", "funnel.svg" }) File.Delete(Path.Combine(output, file));
        }
        Directory.CreateDirectory(output);
        AtomicFile.Write(manifest, new JsonObject
        {
            ["fingerprint"] = fingerprint,
            ["steps"] = new JsonArray(steps.Select(s => (JsonNode)s.Name).ToArray()),
            ["inputs"] = new JsonArray(shards.Select(s => (JsonNode)s.Path).ToArray()),
        }.ToJsonString(Indented));
    }

    (bool Corpus, IReadOnlyList<ReduceRound>? Rounds)[]? _kinds;

    /// <summary>What each step is — plain, corpus, partitioned corpus with its rounds — found by building one instance of each.</summary>
    (bool Corpus, IReadOnlyList<ReduceRound>? Rounds) Kind(int s)
    {
        _kinds ??= steps.Select(step =>
        {
            var probe = step.Create();
            try
            {
                if (probe is not IPartitionedCorpusDataFilter partitioned) return (probe is ICorpusDataFilter, (IReadOnlyList<ReduceRound>?)null);
                var rounds = partitioned.Rounds.ToList();
                if (rounds.Count == 0 || rounds.Any(r => r.Partitions < 1 || r.Name.Length == 0 || !r.Name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
                    || rounds.Select(r => r.Name).Distinct().Count() != rounds.Count)
                    throw new InvalidOperationException($"step {step.Name}: {probe.GetType().Name} declares rounds [{string.Join(", ", rounds)}]; " +
                                                        "it needs at least one, with distinct names of letters, digits and '-', each with partitions >= 1");
                return (true, rounds);
            }
            finally { (probe as IDisposable)?.Dispose(); }
        }).ToArray();
        return _kinds[s];
    }

    /// <summary>Whether step <paramref name="s"/> is an <see cref="ICorpusDataFilter"/>.</summary>
    bool IsCorpusStep(int s) => Kind(s).Corpus;

    /// <summary>The reduce rounds of step <paramref name="s"/> when it is an <see cref="IPartitionedCorpusDataFilter"/>.</summary>
    IReadOnlyList<ReduceRound>? Rounds(int s) => Kind(s).Rounds;

    string DecisionPath(string output, int s) => Path.Combine(output, "_corpus", $"{s:D2}-{steps[s].Name}.bin");
    string RoundsDirectory(string output, int s) => Path.Combine(output, "_corpus", $"{s:D2}-{steps[s].Name}.rounds");
    string RoundPath(string output, int s, int r, int p, string extension) => Path.Combine(RoundsDirectory(output, s), $"{r}-{Rounds(s)![r].Name}", $"{p:D5}{extension}");

    /// <summary>After a complete run: each corpus step commits once (a marker records it, so a re-run does not commit twice).</summary>
    void CommitCorpusSteps(string output)
    {
        for (int s = 0; s < steps.Count; s++)
        {
            if (!IsCorpusStep(s)) continue;
            var marker = Path.ChangeExtension(DecisionPath(output, s), ".committed");
            if (File.Exists(marker)) continue;
            var instance = (ICorpusDataFilter)steps[s].Create();
            try
            {
                if (Rounds(s) is { } rounds)
                    for (int r = 0; r < rounds.Count; r++)
                        for (int p = 0; p < rounds[r].Partitions; p++)
                        {
                            // Per partition, so a finish killed half-way does not commit the finished partitions twice.
                            var partMarker = RoundPath(output, s, r, p, ".committed");
                            if (File.Exists(partMarker)) continue;
                            byte[] commit;
                            using (var stream = File.OpenRead(RoundPath(output, s, r, p, ".decision"))) commit = CorpusRoutes.ReadCommit(stream);
                            if (commit.Length > 0) ((IPartitionedCorpusDataFilter)instance).Commit(r, p, commit);
                            AtomicFile.Write(partMarker, DateTime.UtcNow.ToString("O"));
                        }
                else instance.Commit(File.ReadAllBytes(DecisionPath(output, s)));
            }
            finally { (instance as IDisposable)?.Dispose(); }
            AtomicFile.Write(marker, DateTime.UtcNow.ToString("O"));
        }
    }

    /// <summary>
    /// Instances of the first <paramref name="count"/> steps; corpus steps get their decisions, and a carrying one the
    /// numbers it returned when it observed this shard.
    /// </summary>
    List<(string Name, IDataFilter Filter)> CreateInstances(int count, StepDecision?[] decisions, int shardIndex, string output, InputShard shard)
    {
        var instances = new List<(string, IDataFilter)>(count);
        for (int s = 0; s < count; s++)
        {
            var filter = steps[s].Create();
            if (filter is ICorpusDataFilter corpus) (decisions[s] ?? throw new InvalidOperationException($"step {steps[s].Name} has no decision")).Use(corpus, shardIndex);
            if (filter is ICarryingCorpusDataFilter carrying && CarriedValues.Read(CarriedValues.PathFor(ObservationPath(output, s, steps[s].Name, shard))) is { } values)
                filter = new CarriedCorpusFilter(carrying, values);
            instances.Add((steps[s].Name, filter));
        }
        return instances;
    }

    static void Dispose(List<(string Name, IDataFilter Filter)> instances)
    {
        foreach (var (_, f) in instances) (f as IDisposable)?.Dispose();
    }

    PipelineStats RunShard(InputShard shard, int shardIndex, string output, string keptDir, string rejectedDir, StepDecision?[] decisions, CancellationToken cancellation)
    {
        // A shard with files but no marker was interrupted: start it over (its half-written .tmp files included; a shard
        // belongs to one task, so nothing here is another process's work in progress).
        foreach (var dir in new[] { keptDir, rejectedDir })
            foreach (var stale in Directory.EnumerateFiles(dir, shard.Name + "-*.jsonl.zst*")) File.Delete(stale);

        var instances = CreateInstances(steps.Count, decisions, shardIndex, output, shard);
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
                        var r = parsed.Fields;   // the record ends here: written as it was read, with why
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

    /// <summary>The original fields with the processed text and identity, plus the attributes steps wrote (in place: the record ends here).</summary>
    JsonObject Output(JsonObject original, Document doc)
    {
        var o = original;
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

/// <summary>A phase ran before the phases it depends on had finished (a task of an earlier phase is missing).</summary>
public sealed class PipelinePhaseException(string message) : Exception(message);
