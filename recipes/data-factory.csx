// The data factory alone (paper §2): preprocessing, then rule-based filtering, over the inputs the config names.
// The pipeline is composed here, in code, from the same data-filter plugins `ziya2 data run` uses; a filter can
// appear twice under two names with its own options section (word lists for advertising and for sensitive phrases).
//   ziya2 run recipes/data-factory.csx -c recipes/configs/data-factory.toml --set 'factory.inputs=["my/shards"]'
// Output: <run dir>/data (or factory.output): kept/, rejected/, stats.json, funnel.svg. Re-running resumes.
using Ziya2.DataFactory.Pipeline;
using Ziya2.DataFactory.Reading;

var factory = Config.Get<FactorySettings>("factory");
if (factory.Inputs.Count == 0) throw new InvalidOperationException("factory.inputs names no input; set it in the config or with --set");

// Each step gets a factory, not an instance: the engine builds one filter per shard worker.
PipelineStep[] preprocessing =
[
    new("language",             () => Filter("language")),
    new("normalize-text",       () => Filter("normalize-text")),
    new("remove-invisible",     () => Filter("remove-invisible")),
    new("t2s",                  () => Filter("t2s")),
    new("normalize-whitespace", () => Filter("normalize-whitespace")),
];
PipelineStep[] documentRules =
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
PipelineStep[] partRules =
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

var pipeline = new DataPipeline([.. preprocessing, .. documentRules, .. partRules], new PipelineOptions
{
    Parallelism = factory.Parallelism ?? Environment.ProcessorCount,
    MaxShardBytes = (long)factory.MaxShardMb << 20,
});
var inputs = InputShard.Expand(factory.Inputs.Select(Path.GetFullPath));
var output = factory.Output is { Length: > 0 } o ? Path.GetFullPath(o) : Path.Combine(RunDirectory, "data");
// Same settings and inputs → resume in place; anything else in that directory is refused (the engine checks).
var fingerprint = Config.Fingerprint("factory", "filters") + string.Concat(inputs.Select(s => "|" + s.Path));

Log.LogInformation("Data factory: {Steps} steps over {Shards} shard(s) into {Output}", preprocessing.Length + documentRules.Length + partRules.Length, inputs.Count, output);
var result = pipeline.Run(inputs, output, fingerprint, (shard, stats) =>
    Log.LogInformation("shard {Shard}: {Input} in, {Kept} kept, {Rejected} rejected", shard, stats.Input, stats.Kept, stats.Rejected), Cancellation);
PipelineSummary.Write(Console.Out, result);

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
