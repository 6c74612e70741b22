// The embedded default: the whole Ziya2 regime at toy scale, on CPU, with the data shipped in data/samples/.
//   ziya2 run recipes/tiny.csx -c recipes/configs/tiny.toml
//
//   1. data factory      all five steps over a raw zh/en web sample with noise and duplicates (lib/factory.csx)
//   2. stage 0 "base"    a tiny LLaMA pre-trained on the English part with an English-centric tokenizer: our LLaMA2
//   3. tokenizer         Ziya2 §3.2: add the corpus's most frequent missing Chinese characters; new embedding rows
//                        start as the mean of the rows the base tokenizer split each character into
//   4. stage 1 general   unsupervised zh+en, documents packed with <eos>
//   5. stage 2           supervised Q/A in the paper's prompt templates + an equal replay of stage-1 data
//   6. stage 3           MetaMath-style maths + a small replay from each earlier stage
//   7. evaluation        after every stage: held-out loss per source, an MMLU-layout and a GSM8K-layout benchmark
//                        through the evaluation harness; then scaling-law samples (§7) per stage and benchmark
//   8. report            <run>/report/report.html with PNG charts
// Re-running in the same --run-dir resumes where it stopped, or finds every stage complete and rewrites the report.
#load "lib/factory.csx"
#load "lib/regime.csx"

using Ziya2.DataFactory.Pipeline;
using Ziya2.DataFactory.Reading;
using Ziya2.Models;
using Ziya2.Reporting;
using Ziya2.Tokenization;
using Ziya2.Training;
using Ziya2.Training.Data;
using Ziya2.Training.Evaluation;
using Ziya2.Evaluation;
using Ziya2.Scaling;
using Ziya2.DataFactory.Evaluation;

var tiny = Config.Get<TinySettings>("tiny");
var trainer = Config.Get<TrainerOptions>("trainer");
var dataDir = Path.Combine(RunDirectory, "data");
if (DryRun)
{
    Console.Out.WriteLine($"tiny plan: {trainer.TokensPerStep:N0} tokens per step (sequence {trainer.SequenceLength}); steps base {tiny.BaseSteps}, " +
                          $"general {tiny.GeneralSteps}, supervised {tiny.SupervisedSteps}, math {tiny.MathSteps} = " +
                          $"{(tiny.BaseSteps + tiny.GeneralSteps + tiny.SupervisedSteps + tiny.MathSteps) * trainer.TokensPerStep:N0} tokens; factory inputs {string.Join(", ", tiny.RawInputs)}");
    return;
}

// ---- 1. the data factory: general web text through all five steps; curated sets only formatted -------------------
var general = RunFactory(tiny.RawInputs.Select(RecipePath).ToList(), Path.Combine(dataDir, "general"), Config.Get<FactorySettings>("factory"), Config.Get<EvaluationSettings>("evaluation"));
string Formatted(string name, string input) => FormatSupervised(name, [RecipePath(input)], Path.Combine(dataDir, name), parallelism: 1);
var supervisedKept = Formatted("supervised", tiny.Supervised);
var mathKept = Formatted("math", tiny.Math);

// ---- 2. stage 0: the base model, English-centric like LLaMA2 -------------------------------------------------
var baseTokenizer = Tokenizer("sentencepiece");
var model = Model("llama");
if (model.VocabSize < baseTokenizer.VocabSize) throw new InvalidOperationException($"model.vocab_size {model.VocabSize} < the base tokenizer's {baseTokenizer.VocabSize} pieces");
var tokens = Path.Combine(RunDirectory, "tokens");
TokenFile Tokens(string name, ITokenizer t, string input, Func<Document, bool>? include = null) =>
    TokenFileBuilder.Build([input], t, Path.Combine(tokens, name), null, Cancellation, include);
var baseEnglish = Tokens("base-en", baseTokenizer, general.Kept, d => d.Language == "en");
var heldOutEnBase = Tokens("eval-base-en", baseTokenizer, RecipePath(tiny.Eval.GeneralEn));

int eos = baseTokenizer.Vocabulary.EosId ?? 2, pad = baseTokenizer.Vocabulary.PadId ?? 0;
var configHash = Config.Fingerprint("tiny", "trainer", "model", "optimizer", "scheduler", "tokenizer", "factory", "filters");
var results = new List<StageResult>();
Log.LogInformation("Model: {Params:N0} parameters; base tokenizer {Vocab} pieces", model.ParameterCount, baseTokenizer.VocabSize);
using (var baseOptimizer = Optimizer("adamw").Create(model.GetParameterGroups()))
{
    var baseRunner = new StageRunner(model, baseOptimizer, Scheduler("cosine"), trainer, RunDirectory, configHash, (stage, step, m) => Metrics(stage, step, m))
    {
        ExportFormat = null,
        // Nats per token of the base tokenizer: not comparable with the later stages' numbers (another tokenizer).
        Evaluate = _ => new Dictionary<string, double> { ["heldout_en_base_tokens"] = HeldOutLoss.Measure(model, heldOutEnBase, trainer.SequenceLength).Loss },
    };
    results.AddRange(baseRunner.Run([new StageSpec("base", Mixture(("en", baseEnglish, PackingMode.Documents, 1.0)), tiny.BaseSteps)], Cancellation));
}
if (Cancellation.IsCancellationRequested) return;

// ---- 3. tokenizer extension with mean initialisation (Ziya2 §3.2–3.3) ------------------------------------------
var chineseText = ReadDocuments(general.Kept).Where(d => d.Language == "zh").Select(d => d.Text).ToList();
var (extended, added) = ExtendVocabulary(baseTokenizer, model, chineseText, tiny.NewCharacters, tiny.PadVocabularyTo, Path.Combine(RunDirectory, "tokenizer"));
var zhEval = ReadDocuments(RecipePath(tiny.Eval.GeneralZh)).Select(d => d.Text).ToList();
var enEval = ReadDocuments(RecipePath(tiny.Eval.GeneralEn)).Select(d => d.Text).ToList();
var efficiency = new[] { ("Chinese", zhEval), ("English", enEval) }
    .Select(x => (Text: x.Item1, Base: TokensPerChar(baseTokenizer, x.Item2), Extended: TokensPerChar(extended, x.Item2))).ToList();
Log.LogInformation("Tokenizer: {Added} Chinese characters added, {Base} → {Extended} pieces; Chinese tokens/char {B:F3} → {E:F3}",
    added, baseTokenizer.VocabSize, extended.VocabSize, efficiency[0].Base, efficiency[0].Extended);

// ---- 4–6. the three stages, each from the previous one's weights ---------------------------------------------
var enFile = Tokens("general-en", extended, general.Kept, d => d.Language == "en");
var zhFile = Tokens("general-zh", extended, general.Kept, d => d.Language == "zh");
var sftFile = Tokens("supervised", extended, supervisedKept);
var mathFile = Tokens("math", extended, mathKept);
var heldOut = new Dictionary<string, TokenFile>
{
    ["heldout_en"] = Tokens("eval-general-en", extended, RecipePath(tiny.Eval.GeneralEn)),
    ["heldout_zh"] = Tokens("eval-general-zh", extended, RecipePath(tiny.Eval.GeneralZh)),
    ["heldout_supervised"] = Tokens("eval-supervised", extended, Formatted("eval-supervised", tiny.Eval.Supervised)),
    ["heldout_math"] = Tokens("eval-math", extended, Formatted("eval-math", tiny.Eval.Math)),
};
// Benchmarks in public formats (MMLU's CSV layout, GSM8K's JSONL), scored by the evaluation harness after each stage.
var towns = new MultipleChoiceBenchmark { Name = "towns", Chinese = false, Subjects = MultipleChoiceBenchmark.Mmlu(RecipePath(tiny.Eval.Towns)).Subjects };
var gsm8kLayout = MathBenchmark.Gsm8k(RecipePath(Path.Combine(tiny.Eval.Gsm8k, "test.jsonl")), RecipePath(Path.Combine(tiny.Eval.Gsm8k, "train.jsonl")));
var maths = new MathBenchmark { Name = "maths", Style = gsm8kLayout.Style, Test = gsm8kLayout.Test, Shots = gsm8kLayout.Shots };

// Stage 1: sources weighted by their tokens. Stage 2: supervised + an equal amount of stage-1 data (1:1).
// Stage 3: maths + a fixed token share from each earlier stage (the paper: 0.1B each from stages 1 and 2 beside 0.1B
// of MetaMath); the stage-1 share is split between its sources by their tokens.
MixtureSource[] stage1 = [new("general-en", enFile, PackingMode.Documents, enFile.Tokens), new("general-zh", zhFile, PackingMode.Documents, zhFile.Tokens)];
var stage2 = Replay.ByRatio([new("supervised", sftFile, PackingMode.Samples, 1, tiny.MaskPrompt)], stage1, 1.0);
double share = tiny.Stage3ReplayShare, stage1Tokens = enFile.Tokens + zhFile.Tokens;
MixtureSource[] stage3 =
[
    new("math", mathFile, PackingMode.Samples, 1 - 2 * share, tiny.MaskPrompt),
    .. stage1.Select(s => s with { Weight = share * s.File.Tokens / stage1Tokens }),
    new("supervised", sftFile, PackingMode.Samples, share, tiny.MaskPrompt),
];

using (var optimizer = Optimizer("adamw").Create(model.GetParameterGroups()))
{
    var runner = new StageRunner(model, optimizer, Scheduler("cosine"), trainer, RunDirectory, configHash, (stage, step, m) => Metrics(stage, step, m))
    {
        Schedule = tiny.OneSchedule ? ScheduleSpan.AllStages : ScheduleSpan.PerStage,
        ExportDtype = "f32",
        Evaluate = _ =>
        {
            var scores = heldOut.ToDictionary(h => h.Key, h => HeldOutLoss.Measure(model, h.Value, trainer.SequenceLength).Loss);
            var scorer = new LanguageModelScorer(model, extended);
            foreach (var b in new[] { towns.Run(scorer, shots: 3, limit: tiny.BenchmarkItems), maths.Run(scorer, shots: 2, maxNewTokens: 48, limit: tiny.BenchmarkItems) })
                (scores[$"{b.Benchmark}_accuracy"], scores[$"{b.Benchmark}_answer_loss"]) = (b.Score, b.AnswerLoss);
            return scores;
        },
    };
    results.AddRange(runner.Run(
    [
        new StageSpec("general", Mixture(stage1), tiny.GeneralSteps),
        new StageSpec("supervised", Mixture(stage2), tiny.SupervisedSteps),
        new StageSpec("math", Mixture(stage3), tiny.MathSteps),
    ], Cancellation));
}
foreach (var r in results)
    Log.LogInformation("Stage {Stage}: {How}; evaluation {Eval}", r.Stage,
        r.Interrupted ? $"interrupted at step {r.Steps}" : r.Resumed && double.IsNaN(r.FirstLoss) ? "already complete" : $"trained, loss {r.FirstLoss:F3} → {r.LastLoss:F3}",
        string.Join(", ", r.Evaluation.Select(kv => $"{kv.Key} {kv.Value:F3}")));
if (Cancellation.IsCancellationRequested) return;

// ---- 7b. data-centric scaling samples (§7) ----------------------------------------------------------------------
// Per stage and benchmark: tokens trained since the base model, the stage's data attributes (the automatic proxy for
// coherence and readability; similarity as the mean cosine between embeddings of the stage's data and the benchmark's
// questions, embedded by a fixed model: the base model's weights) and the benchmark's answer loss after the stage.
var embedderModel = Model("llama");
embedderModel.Load(Path.Combine(results[0].Checkpoint, "model"));
var embedder = new ModelEmbedder(embedderModel, baseTokenizer, maxTokens: trainer.SequenceLength);
var stageData = new Dictionary<string, string> { ["general"] = general.Kept, ["supervised"] = supervisedKept, ["math"] = mathKept };
var benchmarkTexts = new Dictionary<string, List<string>>
{
    ["towns"] = towns.Subjects.SelectMany(x => x.Test).Select(q => q.Question).ToList(),
    ["maths"] = maths.Test.Select(p => p.Question).ToList(),
};
var advertising = TextMeasures.ReadPhrases(Config.Get<EvaluationSettings>("evaluation").AdvertisingLists.Select(Path.GetFullPath));
var samples = new List<(ScalingSample Sample, IReadOnlyList<string> Extra)>();
double trained = 0;
foreach (var r in results.Skip(1).Where(r => !r.Interrupted))
{
    trained += r.Steps * (double)trainer.TokensPerStep;
    var docs = ReadDocuments(stageData[r.Stage]).Take(200).ToList();
    var attributes = DataAttributes.Proxy(docs, advertising);
    foreach (var (bench, texts) in benchmarkTexts)
    {
        double similarity = DataSimilarity.AverageCosine(embedder, docs.Select(d => d.Text).ToList(), texts);
        // A mean cosine can in principle be negative; the law's attributes live in [0, 1].
        samples.Add((new ScalingSample(trained, attributes.Coherence, attributes.Readability, Math.Clamp(similarity, 0, 1), r.Evaluation[$"{bench}_answer_loss"]), [r.Stage, bench]));
    }
}
embedderModel.Dispose();
var samplesPath = Path.Combine(RunDirectory, "scaling-samples.csv");
ScalingSamples.Write(samplesPath, samples, ["stage", "benchmark"]);   // rewritten from this run's numbers
Log.LogInformation("Scaling-law samples: {Count} rows in {Path} (fit them with: ziya2 scaling fit)", samples.Count, samplesPath);

// ---- 8. the run report ----------------------------------------------------------------------------------------
var metrics = MetricsLog.Read(Path.Combine(RunDirectory, "metrics.jsonl"));
string[] stageNames = ["base", "general", "supervised", "math"];
string F(double v) => double.IsFinite(v) ? v.ToString("F3", System.Globalization.CultureInfo.InvariantCulture) : "–";
var evalKeys = results.SelectMany(r => r.Evaluation.Keys).Distinct().ToList();
var reportPath = new RunReport("Ziya2 tiny run: data factory → base → tokenizer extension → three stages")
    .Text("What ran", $"Factory inputs {string.Join(", ", tiny.RawInputs)}; model {model.ParameterCount:N0} parameters; " +
                      $"{trainer.TokensPerStep:N0} tokens per step (sequence {trainer.SequenceLength}); loss on answers only: {tiny.MaskPrompt}.")
    .BarChart("Data funnel: documents left after each factory step", "documents", general.Funnel.Select(f => (f.Step, (double)f.Documents)).ToList())
    .Table("Data gate", ["criterion", "unqualified rate", "passed"], general.Gate.Criteria.Select(c => (IReadOnlyList<string>)[c.Name, c.Rate.ToString("P3"), c.Passed ? "yes" : "NO"]))
    .Table("Tokenizer extension", ["text", "base tokens/char", "extended tokens/char", "gain"],
        efficiency.Select(e => (IReadOnlyList<string>)[e.Text, F(e.Base), F(e.Extended), $"{e.Base / e.Extended:F2}×"]))
    .LineChart("Training loss per stage", "step", "loss", MetricsLog.SeriesByEvent(metrics, stageNames, "loss"))
    .LineChart("Learning rate per stage", "step", "learning rate", MetricsLog.SeriesByEvent(metrics, stageNames, "lr"))
    .LineChart("Throughput", "step", "tokens/s", MetricsLog.SeriesByEvent(metrics, stageNames, "tokens_per_second"))
    .Table("Stages", ["stage", "steps", "first loss", "last loss", "checkpoint"],
        results.Select(r =>
        {
            // From the metrics log, so a run resumed after completion still shows how each stage went.
            var (_, loss) = MetricsLog.Series(metrics, r.Stage, "loss");
            return (IReadOnlyList<string>)[r.Stage, r.Steps.ToString(), F(loss.FirstOrDefault(double.NaN)), F(loss.LastOrDefault(double.NaN)), Path.GetRelativePath(RunDirectory, r.Checkpoint)];
        }))
    .Table("Evaluation after each stage (held-out and answer losses in nats/token; accuracies from the benchmark harness)", ["stage", .. evalKeys],
        results.Select(r => (IReadOnlyList<string>)[r.Stage, .. evalKeys.Select(k => r.Evaluation.TryGetValue(k, out var v) ? F(v) : "–")]))
    .Table("Scaling-law samples (coherence/readability: automatic proxy; similarity: mean cosine to the benchmark's questions)",
        ["stage", "benchmark", "tokens", "coherence", "readability", "similarity", "answer loss"],
        samples.Select(x => (IReadOnlyList<string>)[x.Extra[0], x.Extra[1], $"{x.Sample.Tokens:N0}", F(x.Sample.Coherence), F(x.Sample.Readability), F(x.Sample.Similarity), F(x.Sample.Loss)]))
    .Text("Where things are", $"Checkpoints: {Path.Combine(RunDirectory, "checkpoints")}; Hugging Face exports per stage: {Path.Combine(RunDirectory, "exports")}; " +
                              $"extended tokenizer: {Path.Combine(RunDirectory, "tokenizer")}; data-factory report: {general.EvaluationReport}; metrics: {Path.Combine(RunDirectory, "metrics.jsonl")}.")
    .Write(Path.Combine(RunDirectory, "report"));
Log.LogInformation("Report: {Report}", reportPath);

// Every stage must have learned something: its last loss below its first (a stage found complete was checked when it ran).
var flat = results.Where(r => double.IsFinite(r.FirstLoss) && !(r.LastLoss < r.FirstLoss)).ToList();
if (flat.Count > 0) throw new InvalidOperationException($"loss did not fall in stage(s) {string.Join(", ", flat.Select(r => $"{r.Stage} ({r.FirstLoss:F3} → {r.LastLoss:F3})"))}");

// ---- helpers ---------------------------------------------------------------------------------------------------
MixtureSampler Mixture(params IReadOnlyList<MixtureSource> sources) => new(sources, trainer.SequenceLength, eos, pad, (ulong)Seed);
MixtureSampler Mixture(params (string Name, TokenFile File, PackingMode Mode, double Weight)[] sources) =>
    Mixture(sources.Select(s => new MixtureSource(s.Name, s.File, s.Mode, s.Weight)).ToList());

/// <summary>[tiny]: the shipped data and the size of each stage.</summary>
public sealed class TinySettings
{
    public List<string> RawInputs { get; set; } = ["../data/samples/raw/en.jsonl", "../data/samples/raw/zh.jsonl"];
    public string Supervised { get; set; } = "../data/samples/supervised.jsonl";
    public string Math { get; set; } = "../data/samples/math.jsonl";
    public EvalSets Eval { get; set; } = new();
    /// <summary>Chinese characters added to the base vocabulary (Ziya2 added 7,400 to LLaMA2's 32,000).</summary>
    public int NewCharacters { get; set; } = 600;
    /// <summary>Model rows are rounded up to a multiple of this (Ziya2: 128 → 39,424).</summary>
    public int PadVocabularyTo { get; set; } = 64;
    public long BaseSteps { get; set; } = 150;
    public long GeneralSteps { get; set; } = 200;
    public long SupervisedSteps { get; set; } = 120;
    public long MathSteps { get; set; } = 120;
    /// <summary>Stage 3: token share of each replayed earlier stage (paper: 0.1B of 0.3B each ≈ 1/3).</summary>
    public double Stage3ReplayShare { get; set; } = 1.0 / 3;
    /// <summary>One cosine over stages 1–3 (true) or a warmup and decay per stage (false).</summary>
    public bool OneSchedule { get; set; }
    /// <summary>Items per benchmark scored after each stage.</summary>
    public int BenchmarkItems { get; set; } = 30;
    /// <summary>Supervised stages: loss on answers only (the paper is silent; this is the common choice).</summary>
    public bool MaskPrompt { get; set; } = true;
}

public sealed class EvalSets
{
    public string GeneralEn { get; set; } = "../data/samples/eval/general-en.jsonl";
    public string GeneralZh { get; set; } = "../data/samples/eval/general-zh.jsonl";
    public string Supervised { get; set; } = "../data/samples/eval/supervised.jsonl";
    public string Math { get; set; } = "../data/samples/eval/math.jsonl";
    /// <summary>MMLU-layout questions about the sample's invented towns (dev/, test/).</summary>
    public string Towns { get; set; } = "../data/samples/eval/benchmarks/towns";
    /// <summary>GSM8K-layout maths problems (train.jsonl for shots, test.jsonl).</summary>
    public string Gsm8k { get; set; } = "../data/samples/eval/benchmarks/gsm8k";
}
