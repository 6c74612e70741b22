// The data factory (paper §2) as a function recipes call: all five steps over some inputs.
//   [factory] order = "paper" (default): 1 preprocessing → <out>/dp, 2 perplexity buckets → <out>/as,
//                                        3 rule-based filtering → <out>/rf, 4 deduplication → <out>/cd
//   [factory] order = "rules-first":     1 + 3 in one pass → <out>/dp-rf, 2 + 4 → <out>/as-cd
//   5 evaluation and the quality gate → <out>/evaluation (report, human sheet, verdict)
// The steps are not listed here: Pipeline("dp") reads [pipelines.dp] from the config, which includes
// ../pipelines/ziya2.toml (and ziya2-code.toml) — the definitions `ziya2 data run` runs, so the two cannot drift.
using System.Text.Json;
using Ziya2.DataFactory.Cluster;
using Ziya2.DataFactory.Evaluation;
using Ziya2.DataFactory.Pipeline;
using Ziya2.DataFactory.Reading;

/// <summary>
/// What the factory produced: the cleaned corpus, the document count after each step, the gate's verdict (none for
/// code) and, with [evaluation.auto_tighten], every round of the gate's loop (the chosen one's output is <c>Kept</c>).
/// </summary>
public sealed record FactoryOutcome(string Kept, IReadOnlyList<(string Step, long Documents)> Funnel, GateResult? Gate, string? EvaluationReport,
    IReadOnlyList<GateRound>? Rounds = null);

/// <summary>
/// Runs one pipeline over <paramref name="shards"/> into <paramref name="output"/>, resuming in place when the settings
/// match. Progress (a bar or periodic lines per pipeline, a summary at its end) comes from the events it publishes.
/// </summary>
PipelineResult RunPipeline(string name, IReadOnlyList<PipelineStep> steps, IReadOnlyList<InputShard> shards, string output, string fingerprint, PipelineOptions options)
{
    Log.LogInformation("Data factory {Name}: {Steps} steps over {Shards} shard(s)", name, steps.Count, shards.Count);
    options.Name = name;
    var result = new DataPipeline(steps, options).Run(shards, output, fingerprint, Events, Cancellation);
    PipelineSummary.Write(Console.Out, result);
    return result;
}

/// <summary>
/// The same pipeline on a cluster (<c>[factory] executor = "slurm"</c> with <c>[executor.slurm]</c>, or <c>"k8s"</c> with
/// <c>[executor.k8s]</c>): writes the worker's settings (this pipeline's steps, their options, the engine's) to
/// <c>&lt;output&gt;/_cluster/&lt;name&gt;.toml</c>, then submits its phases as job arrays chained with afterok, or
/// applies them as Indexed Jobs with kubectl — each task runs <c>ziya2 data run</c> over its share of the files or its
/// partition — and waits for them. The output directory must be on storage the nodes share.
/// </summary>
PipelineResult RunPipelineOnCluster(string executor, string name, IReadOnlyList<PipelineStep> steps, IReadOnlyList<string> inputs, string output, PipelineOptions options,
    IReadOnlyDictionary<string, string>? overrides = null)
{
    var slurm = executor == "slurm" ? Config.Get<SlurmSettings>("executor.slurm") : null;
    var k8s = executor == "k8s" ? Config.Get<KubernetesSettings>("executor.k8s") : null;
    var threads = slurm?.CpusPerTask ?? (int.TryParse(k8s!.Cpu, out var cpus) && cpus > 0 ? cpus : 1);
    var directory = Path.Combine(output, "_cluster");
    Directory.CreateDirectory(directory);
    var settings = Path.Combine(directory, name + ".toml");
    File.WriteAllText(settings,
        $"[pipelines.{name}]\nsteps = [{string.Join(", ", steps.Select(s => JsonSerializer.Serialize(s.Name)))}]\n\n" +
        $"[pipeline]\nmax_shard_mb = {options.MaxShardBytes >> 20}\nparallelism = {threads}\n\n" +
        Config.Toml([.. steps.Select(s => "filters." + s.Name), "plugins"]));   // [plugins] directories: third-party filters too
    IReadOnlyList<ClusterPipeline> plan = [new ClusterPipeline(name, new DataPipeline(steps, options).Phases())];
    // A gate round's tightenings reach the workers as --set, over the settings file (which holds the run's own values).
    string[] worker = ["data", "run", settings, "--input", .. inputs, "--output", output, "--pipeline", name,
                       .. (overrides ?? new Dictionary<string, string>()).SelectMany(kv => new[] { "--set", $"{kv.Key}={kv.Value}" })];
    if (slurm is not null)
    {
        var jobs = SlurmExecutor.Submit(plan, slurm, worker, output, submit: true);
        Log.LogInformation("Data {Name}: {Jobs} Slurm job(s) submitted ({First}…{Last}), {Tasks} task(s) per shard phase; waiting", options.Name, jobs.Count, jobs[0].Id, jobs[^1].Id, slurm.Tasks);
        if (!SlurmExecutor.Wait(jobs, output, TimeSpan.FromSeconds(2), Cancellation))
            throw new InvalidOperationException($"the Slurm jobs of {options.Name} failed; their logs are in {Path.Combine(output, "_slurm", "logs")}. Run the recipe again to resume");
    }
    else
    {
        var manifests = KubernetesExecutor.Write(plan, k8s!, worker, output);
        Log.LogInformation("Data {Name}: applying {Jobs} Kubernetes Job(s), {Tasks} task(s) per shard phase; waiting", options.Name, manifests.Count, k8s!.Tasks);
        if (!KubernetesExecutor.ApplyAndWait(output, line => Log.LogInformation("{Line}", line), Cancellation))
            throw new InvalidOperationException($"a Kubernetes Job of {options.Name} failed (above). Run the recipe again to resume");
    }
    var result = PipelineResult.Read(Path.Combine(output, name));
    PipelineSummary.Write(Console.Out, result);
    return result;
}

/// <summary>
/// Curated Q/A sets skip the web-text steps: only the paper's prompt templates (Appendix A) and whitespace. The source's
/// question and answer fields become attributes for the template filter ([filters.format-supervised] names which it
/// reads: question_attribute, answer_attribute); prompt_chars marks where the answer starts.
/// </summary>
string FormatSupervised(string name, IReadOnlyList<string> inputs, string output, string questionField = "question", string answerField = "answer", int? parallelism = null)
{
    var shards = Shards(inputs);
    RunPipeline(name, [new("format-supervised", () => Filter("format-supervised")), new("normalize-whitespace", () => Filter("normalize-whitespace"))],
        shards, output, Config.Fingerprint("filters.format-supervised") + string.Concat(shards.Select(s => "|" + s.Path)),
        new PipelineOptions { Fields = new FieldMapping { Attributes = [questionField, answerField] }, Parallelism = parallelism ?? Environment.ProcessorCount });
    return Path.Combine(output, "kept");
}

/// <summary>The shards of <paramref name="inputs"/>, saying which files of their directories are not data and left out.</summary>
IReadOnlyList<InputShard> Shards(IEnumerable<string> inputs)
{
    var shards = InputShard.Expand(inputs.Select(Path.GetFullPath), out var skipped);
    if (skipped.Count > 0)
        Log.LogWarning("{Count} file(s) in the input directories are not data files and were skipped ({First}): data files are .jsonl, .jsonl.gz, .jsonl.zst, .parquet",
            skipped.Count, string.Join(", ", skipped.Take(5).Select(Path.GetFileName)) + (skipped.Count > 5 ? ", …" : ""));
    return shards;
}

/// <summary>
/// Pipelines run one after another over <paramref name="inputs"/>, each reading what the one before kept (so corpus
/// steps — perplexity buckets, dedup — see everything before them), under one fingerprint: the same settings and inputs
/// resume in place; anything else in those directories is refused (the engine checks). <c>Run(name, steps)</c> returns
/// the pipeline's kept directory; <c>Funnel()</c> the documents read, then left after each step, in the order they ran;
/// <c>Runs</c> every pipeline's result. <paramref name="upstream"/>: pipelines that ran before, elsewhere (an earlier round
/// of the gate's loop) — the chain reads the last one's output and counts them in its funnel.
/// </summary>
(Func<string, IReadOnlyList<PipelineStep>, string> Run, Func<IReadOnlyList<(string Step, long Documents)>> Funnel, List<PipelineResult> Runs) Chain(
    IReadOnlyList<string> inputs, string output, FactorySettings factory, string fingerprintSalt, string? label,
    IReadOnlyList<PipelineResult>? upstream = null, IReadOnlyDictionary<string, string>? overrides = null)
{
    var options = new PipelineOptions { Parallelism = factory.Parallelism ?? Environment.ProcessorCount, MaxShardBytes = (long)factory.MaxShardMb << 20 };
    var shards = Shards(inputs);
    var fingerprint = Config.Fingerprint("factory", "filters", "pipelines") + fingerprintSalt + string.Concat(shards.Select(s => "|" + s.Path));
    var runs = new List<PipelineResult>(upstream ?? []);
    string Run(string name, IReadOnlyList<PipelineStep> steps)
    {
        var title = label is null ? name : $"{label}/{name}";
        if (factory.Executor != "local")
        {
            options.Name = title;
            runs.Add(RunPipelineOnCluster(factory.Executor, name, steps, runs.Count == 0 ? [.. inputs.Select(Path.GetFullPath)] : [Path.Combine(runs[^1].OutputDirectory, "kept")], output, options, overrides));
        }
        else
        {
            var input = runs.Count == 0 ? shards : InputShard.Expand([Path.Combine(runs[^1].OutputDirectory, "kept")]);
            runs.Add(RunPipeline(title, steps, input, Path.Combine(output, name), fingerprint, options));
        }
        return Path.Combine(output, name, "kept");
    }
    IReadOnlyList<(string, long)> Funnel() =>
        [("raw", runs[0].Stats.Input), .. runs.SelectMany(r => r.Stats.Steps.Where(s => s.Name != "read").Select(s => (s.Name, s.Kept)))];
    return (Run, Funnel, runs);
}

/// <summary>
/// The five steps over <paramref name="inputs"/> into <paramref name="output"/>; throws when the gate fails and is
/// enforced. <paramref name="label"/> names the corpus in progress lines (<c>web/dp</c>). With
/// <c>[evaluation.auto_tighten] enabled = true</c> a failing gate is not the end: see <see cref="AutoTightenSettings"/>.
/// </summary>
FactoryOutcome RunFactory(IReadOnlyList<string> inputs, string output, FactorySettings factory, EvaluationSettings evaluation, string? label = null)
{
    // Each pipeline by a constant name, so `ziya2 validate` checks its definition; the overrides are a round's tightenings.
    var definitions = new Dictionary<string, Func<IReadOnlyDictionary<string, string>, IReadOnlyList<PipelineStep>>>
    {
        ["dp"] = o => Pipeline("dp", o), ["as"] = o => Pipeline("as", o), ["rf"] = o => Pipeline("rf", o), ["cd"] = o => Pipeline("cd", o),
    };
    // The paper's order (§2.1), each step its own pipeline: preprocessing → automatic scoring on preprocessed text
    // (buckets over every preprocessed document) → rules → content dedup (which keeps the copy in the best bucket).
    // Rules first: preprocessing and the rules in one pass over the raw data, and scoring only what the rules keep.
    (string Name, string[] Parts)[] plan = factory.Order == "paper"
        ? [("dp", ["dp"]), ("as", ["as"]), ("rf", ["rf"]), ("cd", ["cd"])]
        : [("dp-rf", ["dp", "rf"]), ("as-cd", ["as", "cd"])];
    IReadOnlyList<PipelineStep> Steps(int i, IReadOnlyDictionary<string, string> o) => [.. plan[i].Parts.SelectMany(p => definitions[p](o))];
    var stepsOf = plan.Select((_, i) => Steps(i, new Dictionary<string, string>()).Select(s => s.Name).ToHashSet()).ToList();

    // ---- step 5: evaluation and the gate, after every round of the loop ----
    var judged = evaluation.JudgedSheet is { Length: > 0 } js ? HumanSheet.Import(Path.GetFullPath(js)) : null;
    var judgedIds = judged?.Select(j => j.Id).ToHashSet();
    (EvaluationReport Report, List<Document> Sheet, GateResult Gate) Evaluate(string kept)
    {
        var present = new HashSet<string>();
        var (report, sheet) = new DataEvaluator(new EvaluationOptions
        {
            SampleRate = evaluation.SampleRate, SheetSize = evaluation.SheetSize, Seed = Seed,
            AdvertisingLists = [.. evaluation.AdvertisingLists], ToxicLists = [.. evaluation.ToxicLists],
        }).Run(InputShard.Expand([kept]), Cancellation, judgedIds is null ? null : d => { if (judgedIds.Contains(d.Id)) present.Add(d.Id); });
        // The judges' verdicts count for the documents still in the corpus: a tightening that drops flagged ones shows.
        var stillJudged = judged?.Where(j => present.Contains(j.Id)).ToList();
        if (stillJudged is { Count: 0 }) { Log.LogWarning("Gate: none of the {Count} judged documents is in the corpus any more; the human criteria are not measured", judged!.Count); stillJudged = null; }
        return (report, sheet, QualityGate.Check(stillJudged, report, evaluation.Threshold));
    }

    // ---- the rounds: the first runs every pipeline into <output>; each later one re-runs, into <output>/rounds/<n>,
    // the pipelines from the first that reads a changed option, over the earlier rounds' outputs ----
    var tighten = evaluation.AutoTighten;
    var settings = new SortedDictionary<string, double>(StringComparer.Ordinal);
    var latest = new PipelineResult[plan.Length];
    var rounds = new List<GateRound>();
    var changed = new SortedDictionary<string, double>(StringComparer.Ordinal);
    (EvaluationReport Report, List<Document> Sheet, GateResult Gate)? chosenEvaluation = null;
    GateRound chosen = null!;
    string? stop = null;
    for (int round = 0, start = 0; ; round++)
    {
        var directory = round == 0 ? output : Path.Combine(output, "rounds", round.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var overrides = settings.ToDictionary(kv => kv.Key, kv => GateLoop.Literal(kv.Value));
        var salt = string.Concat(overrides.Select(kv => $"|{kv.Key}={kv.Value}"));
        var (Run, Funnel, Runs) = Chain(inputs, directory, factory, salt, round == 0 ? label : label is null ? $"round {round}" : $"{label} round {round}", latest[..start], overrides);
        if (round > 0) Log.LogInformation("Gate round {Round}: {Changes}; re-running {Pipelines}", round,
            string.Join(", ", changed.Select(kv => $"{kv.Key} = {GateLoop.Literal(kv.Value)}")), string.Join(", ", plan[start..].Select(p => p.Name)));
        string kept = "";
        for (int i = start; i < plan.Length; i++) kept = Run(plan[i].Name, Steps(i, overrides));
        Runs.CopyTo(0, latest, 0, plan.Length);
        var evaluated = Evaluate(kept);
        var record = new GateRound(round, new Dictionary<string, double>(changed), new Dictionary<string, double>(settings), Funnel(), [.. plan[start..].Select(p => p.Name)], evaluated.Gate, kept);
        rounds.Add(record);
        foreach (var c in evaluated.Gate.Criteria)
            if (!c.Passed) Log.LogWarning("Gate{Round}: {Criterion} unqualified rate {Rate:P3} > {Threshold:P2}; tighten: {Advice}",
                round == 0 ? "" : $" round {round}", c.Name, c.Rate, evaluated.Gate.Threshold, c.Advice);
        // The floor is against what the config itself kept: tightening may not eat more of the corpus than the user allows.
        double ofFirst = (double)record.Funnel[^1].Documents / Math.Max(1, rounds[0].Funnel[^1].Documents);
        if (round > 0 && ofFirst < tighten.MinKeptShare)
        {
            stop = $"round {round} would keep {ofFirst:P1} of the {rounds[0].Funnel[^1].Documents:N0} documents round 0 kept, below evaluation.auto_tighten.min_kept_share = {tighten.MinKeptShare:P1}; round {chosen.Round}'s output is used";
            break;
        }
        (chosen, chosenEvaluation) = (record, evaluated);
        if (evaluated.Gate.Passed || !tighten.Enabled) break;
        if (round == tighten.MaxRounds) { stop = $"{tighten.MaxRounds} round(s) of tightening (evaluation.auto_tighten.max_rounds) did not make the gate pass"; break; }
        // An option counts when its step runs in these pipelines and the config sets it (the shared definitions set all).
        double? ValueOf(string key) => !stepsOf.Any(s => s.Contains(key.Split('.')[1])) ? null : settings.TryGetValue(key, out var v) ? v : Config.Number(key);
        var decision = GateLoop.Next(evaluated.Gate, ValueOf, tighten);
        if (!decision.Continues) { stop = decision.Stop; break; }
        changed = new SortedDictionary<string, double>(decision.Changes.ToDictionary(), StringComparer.Ordinal);
        foreach (var (key, value) in changed) settings[key] = value;
        start = Enumerable.Range(0, plan.Length).First(i => changed.Keys.Any(k => stepsOf[i].Contains(k.Split('.')[1])));
    }

    var (finalReport, finalSheet, gate) = chosenEvaluation ?? throw new InvalidOperationException("no round was evaluated");   // round 0 always is
    var reportDir = Path.Combine(output, "evaluation");
    EvaluationReportWriter.Write(reportDir, finalReport, gate, rounds.Count > 1 || tighten.Enabled ? rounds : null);
    HumanSheet.Export(Path.Combine(reportDir, "human-sheet.csv"), finalSheet);
    if (tighten.Enabled) GateRounds.Write(reportDir, rounds, chosen, stop);
    Log.LogInformation("Evaluation: {Sampled} of {Documents} documents sampled; report {Report}; human sheet {Sheet}",
        finalReport.Sampled, finalReport.Documents, Path.Combine(reportDir, "report.html"), Path.Combine(reportDir, "human-sheet.csv"));
    if (tighten.Enabled)
        Log.LogInformation("Gate loop: {Rounds} evaluation(s), round {Chosen} chosen{Stop}; its settings: {Toml}", rounds.Count, chosen.Round,
            stop is null ? "" : $" ({stop})", Path.Combine(reportDir, "tightened.toml"));
    if (!gate.Passed && evaluation.EnforceGate)
        throw new InvalidOperationException($"the data failed the quality gate ({string.Join(", ", gate.Failures.Select(f => f.Name))})" +
            (stop is null ? "; tighten the steps named above and run again, or let the gate do it: evaluation.auto_tighten.enabled = true" : $": {stop}"));
    Log.LogInformation("Gate {Verdict} ({Criteria} criteria{Human})", gate.Passed ? "passed" : "failed (not enforced)", gate.Criteria.Count,
        judged is null ? "; human criteria need a judged sheet: evaluation.judged_sheet" : "");

    return new FactoryOutcome(chosen.Kept, chosen.Funnel, gate, Path.Combine(reportDir, "report.html"), rounds);
}

/// <summary>
/// The code path (paper §2.8: 191B tokens of code in stage 1; Appendix A's ```` ```lang ```` format): source files skip
/// the prose steps — no zh/en language identification, no prose rules, no perplexity cut against a prose model — and get
/// StarCoder-style file filters, the fence with their language (<c>format-code</c>, from each record's
/// <c>language</c> field), and exact and near dedup. Its funnel is reported separately; the quality gate's criteria are
/// about prose and do not apply.
/// </summary>
FactoryOutcome RunCodeFactory(IReadOnlyList<string> inputs, string output, FactorySettings factory, string? label = null)
{
    var (Run, Funnel, _) = Chain(inputs, output, factory, "|code", label);
    Run("code-rf", Pipeline("code-rf"));
    var kept = Run("code-cd", Pipeline("code-cd"));
    return new FactoryOutcome(kept, Funnel(), null, null);
}

/// <summary>[factory]: what to read, where to write, in which order.</summary>
public sealed class FactorySettings : IValidatableOptions
{
    /// <summary>
    /// <c>paper</c> (default): §2.1's order, preprocessing → automatic scoring → rule-based filtering → content dedup, each
    /// step a pipeline of its own. <c>rules-first</c>: preprocessing and the rules in one pass over the raw data, then
    /// scoring and dedup over what the rules kept (fewer passes; the perplexity buckets are then quantiles of the
    /// rule-filtered corpus, not of all preprocessed text).
    /// </summary>
    public string Order { get; set; } = "paper";
    /// <summary>
    /// <c>local</c> (default): the pipelines run in this process. <c>slurm</c>: each pipeline's phases run as Slurm job
    /// arrays (<c>[executor.slurm]</c>: tasks, max_parallel, cpus_per_task, memory, partition, time) over storage the
    /// nodes share, and the recipe waits for them; <c>k8s</c>: as Kubernetes Indexed Jobs (<c>[executor.k8s]</c>),
    /// applied with kubectl. Outputs are the same bytes.
    /// </summary>
    public string Executor { get; set; } = "local";
    /// <summary>Files or directories (JSONL, .gz, .zst, Parquet, text directories), relative to the working directory.</summary>
    public List<string> Inputs { get; set; } = [];
    /// <summary>Output directory; default &lt;run dir&gt;/data.</summary>
    public string? Output { get; set; }
    public int? Parallelism { get; set; }
    public int MaxShardMb { get; set; } = 256;

    public IEnumerable<string> Validate()
    {
        if (Order is not ("paper" or "rules-first")) yield return $"order must be \"paper\" or \"rules-first\", not \"{Order}\"";
        if (Executor is not ("local" or "slurm" or "k8s")) yield return $"executor must be \"local\", \"slurm\" or \"k8s\", not \"{Executor}\"";
        if (MaxShardMb < 1) yield return "max_shard_mb must be >= 1";
        if (Parallelism is < 1) yield return "parallelism must be >= 1";
    }
}

/// <summary>[evaluation]: step 5.</summary>
public sealed class EvaluationSettings
{
    /// <summary>Share of documents measured automatically (paper: 1 %).</summary>
    public double SampleRate { get; set; } = 0.01;
    /// <summary>Documents exported for human evaluation (paper: 1,000).</summary>
    public int SheetSize { get; set; } = 1000;
    public List<string> AdvertisingLists { get; set; } = [];
    public List<string> ToxicLists { get; set; } = [];
    /// <summary>A judged copy of a previous run's human-sheet.csv; adds the human criteria to the gate.</summary>
    public string? JudgedSheet { get; set; }
    /// <summary>Largest unqualified rate (paper: one in a thousand).</summary>
    public double Threshold { get; set; } = 0.001;
    /// <summary>Fail the run when the gate fails (false: warn and carry on).</summary>
    public bool EnforceGate { get; set; } = true;
    /// <summary>[evaluation.auto_tighten]: let a failing gate tighten the named thresholds and re-run (off by default).</summary>
    public AutoTightenSettings AutoTighten { get; set; } = new();
}
