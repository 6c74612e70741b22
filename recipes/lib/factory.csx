// The data factory (paper §2) as a function recipes call: all five steps over some inputs.
//   1 preprocessing + 3 rule-based filtering  → <out>/dp-rf    (one pass over the raw data)
//   2 perplexity buckets + 4 deduplication    → <out>/as-cd    (corpus steps: two passes over step 1+3's output)
//   5 evaluation and the quality gate         → <out>/evaluation (report, human sheet, verdict)
// Pipelines are composed here, in code, from the same plugins `ziya2 data run` uses; a filter can appear twice under
// two names with its own options section (word lists for advertising and for sensitive phrases).
using Ziya2.DataFactory.Evaluation;
using Ziya2.DataFactory.Pipeline;
using Ziya2.DataFactory.Reading;

/// <summary>What the factory produced: the cleaned corpus, the document count after each step, and the gate's verdict.</summary>
public sealed record FactoryOutcome(string Kept, IReadOnlyList<(string Step, long Documents)> Funnel, GateResult Gate, string EvaluationReport);

// Each step gets a factory, not an instance: the engine builds one filter per shard worker.
PipelineStep[] FactoryPreprocessing() =>
[
    new("language",             () => Filter("language")),
    new("normalize-text",       () => Filter("normalize-text")),
    new("remove-invisible",     () => Filter("remove-invisible")),
    new("t2s",                  () => Filter("t2s")),
    new("normalize-whitespace", () => Filter("normalize-whitespace")),
];
PipelineStep[] FactoryDocumentRules() =>
[
    new("min-length",           () => Filter("min-length")),
    new("max-length",           () => Filter("max-length")),
    new("word-count",           () => Filter("word-count")),
    new("mojibake",             () => Filter("mojibake")),
    new("content-ratio",        () => Filter("content-ratio")),
    new("digit-ratio",          () => Filter("digit-ratio")),
    new("symbol-ratio",         () => Filter("symbol-ratio")),
    new("html-remnants",        () => Filter("html-remnants")),
    new("code-remnants",        () => Filter("code-remnants")),
    new("url-density",          () => Filter("url-density")),
    new("hashtag-density",      () => Filter("hashtag-density")),
    new("line-repetition",      () => Filter("line-repetition")),
    new("paragraph-repetition", () => Filter("paragraph-repetition")),
    new("ngram-repetition",     () => Filter("ngram-repetition")),
    new("stop-words",           () => Filter("stop-words")),
    new("lorem-ipsum",          () => Filter("lorem-ipsum")),
];
// Paragraph and sentence rules remove the offending part; the document goes only when too little remains.
PipelineStep[] FactoryPartRules() =>
[
    new("navigation-lines",     () => Filter("navigation-lines")),
    new("metadata-lines",       () => Filter("metadata-lines")),
    new("browser-notices",      () => Filter("browser-notices")),
    new("advertising",          () => Filter("word-list", "filters.advertising")),
    new("sensitive",            () => Filter("word-list", "filters.sensitive")),
    new("privacy",              () => Filter("privacy")),
    new("truncated-sentences",  () => Filter("truncated-sentences")),
    new("char-runs",            () => Filter("char-runs")),
    // After removals, what is left must still read as prose.
    new("line-punctuation",     () => Filter("line-punctuation")),
];

/// <summary>
/// Runs one pipeline over <paramref name="shards"/> into <paramref name="output"/>, resuming in place when the settings
/// match. Progress (a bar or periodic lines per pipeline, a summary at its end) comes from the events it publishes.
/// </summary>
PipelineResult RunPipeline(string name, PipelineStep[] steps, IReadOnlyList<InputShard> shards, string output, string fingerprint, PipelineOptions options)
{
    Log.LogInformation("Data factory {Name}: {Steps} steps over {Shards} shard(s)", name, steps.Length, shards.Count);
    options.Name = name;
    var result = new DataPipeline(steps, options).Run(shards, output, fingerprint, Events, Cancellation);
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
    var shards = InputShard.Expand(inputs.Select(Path.GetFullPath));
    RunPipeline(name, [new("format-supervised", () => Filter("format-supervised")), new("normalize-whitespace", () => Filter("normalize-whitespace"))],
        shards, output, Config.Fingerprint("filters.format-supervised") + string.Concat(shards.Select(s => "|" + s.Path)),
        new PipelineOptions { Fields = new FieldMapping { Attributes = [questionField, answerField] }, Parallelism = parallelism ?? Environment.ProcessorCount });
    return Path.Combine(output, "kept");
}

/// <summary>
/// The five steps over <paramref name="inputs"/> into <paramref name="output"/>; throws when the gate fails and is
/// enforced. <paramref name="label"/> names the corpus in progress lines (<c>web/dp-rf</c>).
/// </summary>
FactoryOutcome RunFactory(IReadOnlyList<string> inputs, string output, FactorySettings factory, EvaluationSettings evaluation, string? label = null)
{
    string Named(string pipeline) => label is null ? pipeline : $"{label}/{pipeline}";
    var options = new PipelineOptions { Parallelism = factory.Parallelism ?? Environment.ProcessorCount, MaxShardBytes = (long)factory.MaxShardMb << 20 };
    var shards = InputShard.Expand(inputs.Select(Path.GetFullPath));
    // Same settings and inputs → resume in place; anything else in that directory is refused (the engine checks).
    var fingerprint = Config.Fingerprint("factory", "filters") + string.Concat(shards.Select(s => "|" + s.Path));

    var first = RunPipeline(Named("dp-rf"), [.. FactoryPreprocessing(), .. FactoryDocumentRules(), .. FactoryPartRules()], shards, Path.Combine(output, "dp-rf"), fingerprint, options);
    // Corpus steps rank and deduplicate over everything steps 1 and 3 kept: scoring first, so dedup can keep the best copy.
    var second = RunPipeline(Named("as-cd"), [new("perplexity", () => Filter("perplexity")), new("dedup", () => Filter("dedup"))],
        InputShard.Expand([Path.Combine(output, "dp-rf", "kept")]), Path.Combine(output, "as-cd"), fingerprint, options);
    var kept = Path.Combine(output, "as-cd", "kept");

    // ---- step 5: evaluation and the gate ----
    var (report, sheet) = new DataEvaluator(new EvaluationOptions
    {
        SampleRate = evaluation.SampleRate, SheetSize = evaluation.SheetSize, Seed = Seed,
        AdvertisingLists = [.. evaluation.AdvertisingLists], ToxicLists = [.. evaluation.ToxicLists],
    }).Run(InputShard.Expand([kept]), Cancellation);
    var judged = evaluation.JudgedSheet is { Length: > 0 } js ? HumanSheet.Import(Path.GetFullPath(js)) : null;
    var gate = QualityGate.Check(judged, report, evaluation.Threshold);
    var reportDir = Path.Combine(output, "evaluation");
    EvaluationReportWriter.Write(reportDir, report, gate);
    HumanSheet.Export(Path.Combine(reportDir, "human-sheet.csv"), sheet);
    Log.LogInformation("Evaluation: {Sampled} of {Documents} documents sampled; report {Report}; human sheet {Sheet}",
        report.Sampled, report.Documents, Path.Combine(reportDir, "report.html"), Path.Combine(reportDir, "human-sheet.csv"));
    foreach (var failure in gate.Failures)
        Log.LogWarning("Gate: {Criterion} unqualified rate {Rate:P3} > {Threshold:P2}; tighten: {Advice}", failure.Name, failure.Rate, gate.Threshold, failure.Advice);
    if (!gate.Passed && evaluation.EnforceGate)
        throw new InvalidOperationException($"the data failed the quality gate ({string.Join(", ", gate.Failures.Select(f => f.Name))}); tighten the steps named above and run again");
    Log.LogInformation("Gate {Verdict} ({Criteria} criteria{Human})", gate.Passed ? "passed" : "failed (not enforced)", gate.Criteria.Count,
        judged is null ? "; human criteria need a judged sheet: evaluation.judged_sheet" : "");

    // The funnel: documents read, then left after each step of both pipelines.
    var funnel = new List<(string, long)> { ("raw", first.Stats.Input) };
    funnel.AddRange(first.Stats.Steps.Where(s => s.Name != "read").Select(s => (s.Name, s.Kept)));
    funnel.AddRange(second.Stats.Steps.Where(s => s.Name != "read").Select(s => (s.Name, s.Kept)));
    return new FactoryOutcome(kept, funnel, gate, Path.Combine(reportDir, "report.html"));
}

/// <summary>[factory]: what to read and where to write.</summary>
public sealed class FactorySettings
{
    /// <summary>Files or directories (JSONL, .gz, .zst, Parquet, text directories), relative to the working directory.</summary>
    public List<string> Inputs { get; set; } = [];
    /// <summary>Output directory; default &lt;run dir&gt;/data.</summary>
    public string? Output { get; set; }
    public int? Parallelism { get; set; }
    public int MaxShardMb { get; set; } = 256;
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
}
