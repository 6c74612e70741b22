// The Ziya2 regime (paper §2–§5): LLaMA2-13B continually pre-trained on ~700B tokens in three stages.
//   ziya2 run recipes/ziya2-13b.csx -c recipes/configs/ziya2-13b.toml --dry-run     the plan, on any machine
//   ziya2 run recipes/ziya2-13b.csx -c recipes/configs/ziya2-13b.toml               the run
//
//   1. data factory       every raw source of Table 2 through the five steps (lib/factory.csx); supervised sets
//                         (Instruct, Wanjuan, MetaMath) rendered with the Appendix A prompt templates
//   2. tokenizer          LLaMA2's 32,000 pieces + 7,400 Chinese characters, rows padded to 39,424; new rows the
//                         mean of the base pieces they replace (§3.2–3.3)
//   3. token files        each source tokenised once, memory-mapped
//   4. stages             1: 650B unsupervised tokens, <eos> packing, seq 4,096
//                         2: Wanjuan + Instruct with prompts, packed by task and padded, + an equal Stage-1 replay
//                         3: MetaMath + 0.1B tokens from each earlier stage
//                         AdamW (0.9, 0.95), wd 0.1, clip 1.0, 1% warmup, cosine to 1e-5, BF16 with FP32 islands,
//                         activation checkpointing — in the TOML, with what the paper leaves open chosen and cited
//   5. evaluation         held-out loss per source and the six benchmarks ([regime.benchmarks]) after each stage;
//                         a run report with the paper's Table 3 beside ours
// The plan is printed first, always. The training engine runs in one process on one device (TorchSharp has no
// collectives, see docs/training.md); a plan for more GPUs than that stops after step 3 with the token files ready.
#load "lib/factory.csx"
#load "lib/regime.csx"

using Ziya2.DataFactory.Pipeline;
using Ziya2.Evaluation;
using Ziya2.DataFactory.Reading;
using Ziya2.Reporting;
using Ziya2.Tokenization;
using Ziya2.Training;
using Ziya2.Training.Data;
using Ziya2.Training.Evaluation;
using Ziya2.Training.Planning;

var regime = Config.Get<RegimeSettings>("regime");
var trainer = Config.Get<TrainerOptions>("trainer");
var hardware = Config.Get<PlanOptions>("plan");
foreach (var problem in hardware.Validate().Concat(trainer.Validate())) throw new InvalidOperationException(problem);
var sources = regime.Sources;
if (sources.Count == 0) throw new InvalidOperationException("regime.sources is empty: list the corpora ([[regime.sources]])");
IEnumerable<SourceSettings> InStage(int stage) => sources.Where(s => s.Stage == stage);

// ---- the plan -------------------------------------------------------------------------------------------------
// Architecture from the base checkpoint when it is here, else from the shipped copy of LLaMA2-13B's config.json.
var baseConfig = Path.Combine(regime.BaseCheckpoint, "config.json");
var architecture = File.Exists(baseConfig) ? baseConfig : RecipePath(regime.Architecture);
var dimensions = ModelDimensions.FromHuggingFaceConfig(File.ReadAllText(architecture), architecture) with { VocabSize = regime.VocabularySize };
double stage1Tokens = InStage(1).Sum(s => s.Tokens), stage2Fresh = InStage(2).Sum(s => s.Tokens), stage3Fresh = InStage(3).Sum(s => s.Tokens);
var planned = new[]
{
    new PlannedStage("stage1", regime.Stage1Tokens > 0 ? regime.Stage1Tokens : stage1Tokens, "documents", Shares(InStage(1))),
    new PlannedStage("stage2", stage2Fresh * (1 + regime.Stage2ReplayRatio), "samples", $"{Shares(InStage(2))} + Stage-1 replay {regime.Stage2ReplayRatio:0.##}:1"),
    new PlannedStage("stage3", stage3Fresh + 2 * regime.Stage3ReplayTokens, "samples", $"{Shares(InStage(3))} + {regime.Stage3ReplayTokens / 1e9:0.##}B from each earlier stage"),
};
var plan = new TrainingPlan
{
    Model = dimensions, Stages = planned, SequenceLength = trainer.SequenceLength, MicroBatch = trainer.MicroBatch,
    GlobalBatchTokens = regime.GlobalBatchTokens, ActivationCheckpointing = Config.Get<bool>("model.activation_checkpointing"), Hardware = hardware,
};
Console.Out.WriteLine($"Ziya2 regime plan (architecture from {architecture}):");
Console.Out.Write(plan.Render());
if (DryRun) return;

// ---- 1. the data factory --------------------------------------------------------------------------------------
var missing = sources.SelectMany(s => s.Inputs.Select(i => (s.Name, Input: i))).Where(x => !File.Exists(x.Input) && !Directory.Exists(x.Input)).ToList();
if (missing.Count > 0) throw new InvalidOperationException($"inputs not found: {string.Join("; ", missing.Select(m => $"{m.Name}: {m.Input}"))}");
var work = regime.WorkDirectory is { Length: > 0 } w ? Path.GetFullPath(w) : RunDirectory;
var factory = Config.Get<FactorySettings>("factory");
var evaluation = Config.Get<EvaluationSettings>("evaluation");
var kept = new Dictionary<string, string>();
var funnels = new Dictionary<string, FactoryOutcome>();
foreach (var source in sources)
{
    var output = Path.Combine(work, "data", source.Name);
    if (source.Supervised)
        kept[source.Name] = FormatSupervised(source.Name, source.Inputs, output);
    else
    {
        funnels[source.Name] = RunFactory(source.Inputs, output, factory, evaluation);
        kept[source.Name] = funnels[source.Name].Kept;
    }
}

// ---- 2. tokenizer extension and the base model ---------------------------------------------------------------
var baseTokenizer = Tokenizer("sentencepiece");
var model = Model("llama");
// Continued pre-training starts from the base weights only (no optimizer state): distinct from resuming a run.
model.Load(regime.BaseCheckpoint);
var chinese = sources.Where(s => s.Language == "zh" && !s.Supervised)
    .SelectMany(s => ReadDocuments(kept[s.Name]).Take(regime.ExtensionSampleDocuments)).Select(d => d.Text);
var (tokenizer, added) = ExtendVocabulary(baseTokenizer, model, chinese, regime.NewCharacters, regime.PadVocabularyTo, Path.Combine(work, "tokenizer"));
if (model.VocabSize != regime.VocabularySize)
    Log.LogWarning("Vocabulary: {Rows} model rows after adding {Added} characters, the plan assumed {Planned}", model.VocabSize, added, regime.VocabularySize);

// ---- 3. token files ---------------------------------------------------------------------------------------------
var files = sources.ToDictionary(s => s.Name, s => TokenFileBuilder.Build([kept[s.Name]], tokenizer, Path.Combine(work, "tokens", s.Name), null, Cancellation));
var heldOut = sources.Where(s => s.HeldOut is { Length: > 0 })
    .ToDictionary(s => s.Name, s => TokenFileBuilder.Build([s.HeldOut!], tokenizer, Path.Combine(work, "tokens", "heldout-" + s.Name), null, Cancellation));
foreach (var (name, f) in files) Log.LogInformation("Tokens: {Source} {Documents:N0} documents, {Tokens:N0} tokens", name, f.Documents, f.Tokens);
if (hardware.Gpus == 1 && trainer.TokensPerStep != plan.StepTokens)
    throw new InvalidOperationException($"trainer.gradient_accumulation = {trainer.GradientAccumulation} makes {trainer.TokensPerStep:N0} tokens per step; " +
        $"the plan's global batch needs {plan.GradientAccumulation} ({plan.StepTokens:N0} tokens) on one GPU");
if (hardware.Gpus > 1)
    throw new InvalidOperationException($"the plan needs {hardware.Gpus} GPUs, and this engine trains in one process on one device (TorchSharp has no collectives; " +
        "docs/training.md, 'Scale-out'). Data, tokenizer and token files are ready in " + work + "; set plan.gpus = 1 for a single-device run");

// ---- 4. the three stages --------------------------------------------------------------------------------------------
int eos = tokenizer.Vocabulary.EosId ?? 2, pad = tokenizer.Vocabulary.PadId ?? eos;
MixtureSampler Mixture(IReadOnlyList<MixtureSource> mix) => new(mix, trainer.SequenceLength, eos, pad, (ulong)Seed);
MixtureSource Source(SourceSettings s, double weight) =>
    new(s.Name, files[s.Name], s.Supervised ? PackingMode.Samples : PackingMode.Documents, weight, regime.MaskPrompt);
// Stage 1: Table 2's token counts are the weights. Stage 2: its sources + Stage-1 data at the replay ratio.
// Stage 3: its sources + a fixed token budget from each earlier stage, split within a stage by token counts.
var stage1 = InStage(1).Select(s => Source(s, s.Tokens)).ToList();
var stage2 = Replay.ByRatio(InStage(2).Select(s => Source(s, s.Tokens)).ToList(), stage1, regime.Stage2ReplayRatio);
double stage3Total = planned[2].Tokens;
var stage3 = InStage(3).Select(s => Source(s, stage3Fresh / stage3Total * s.Tokens / stage3Fresh))
    .Concat(InStage(1).Select(s => Source(s, regime.Stage3ReplayTokens / stage3Total * s.Tokens / stage1Tokens)))
    .Concat(InStage(2).Select(s => Source(s, regime.Stage3ReplayTokens / stage3Total * s.Tokens / stage2Fresh))).ToList();

var configHash = Config.Fingerprint("regime", "trainer", "model", "optimizer", "scheduler", "tokenizer", "factory", "filters");
var optimizer = Optimizer("adamw").Create(model.GetParameterGroups());
var runner = new StageRunner(model, optimizer, Scheduler("cosine"), trainer, RunDirectory, configHash, (stage, step, m) => Metrics(stage, step, m))
{
    Schedule = regime.OneSchedule ? ScheduleSpan.AllStages : ScheduleSpan.PerStage,
    Evaluate = _ =>
    {
        var scores = heldOut.ToDictionary(h => "heldout_" + h.Key, h => HeldOutLoss.Measure(model, h.Value, trainer.SequenceLength, maxDocuments: regime.HeldOutDocuments).Loss);
        foreach (var b in RunBenchmarks(new LanguageModelScorer(model, tokenizer)))
            if (b.Skipped is null) (scores[b.Benchmark], scores[b.Benchmark + "_answer_loss"]) = (100 * b.Score, b.AnswerLoss);
        return scores;
    },
};
var results = runner.Run(
[
    new StageSpec("stage1", Mixture(stage1), plan.Steps(planned[0])),
    new StageSpec("stage2", Mixture(stage2), plan.Steps(planned[1])),
    new StageSpec("stage3", Mixture(stage3), plan.Steps(planned[2])),
], Cancellation);
optimizer.Dispose();
if (Cancellation.IsCancellationRequested) return;

// ---- 5. report ----------------------------------------------------------------------------------------------------------
var metrics = MetricsLog.Read(Path.Combine(RunDirectory, "metrics.jsonl"));
string[] BenchmarkNames = ["mmlu", "cmmlu", "ceval", "gsm8k", "math", "humaneval"];
var evalKeys = results.SelectMany(r => r.Evaluation.Keys).Distinct().ToList();
var report = new RunReport("Ziya2 regime")
    .Text("Plan", plan.Render());
foreach (var (name, outcome) in funnels)
    report.BarChart($"Data funnel: {name}", "documents", outcome.Funnel.Select(f => (f.Step, (double)f.Documents)).ToList());
report.LineChart("Training loss", "step", "loss", MetricsLog.SeriesByEvent(metrics, results.Select(r => r.Stage), "loss"))
    .LineChart("Learning rate", "step", "learning rate", MetricsLog.SeriesByEvent(metrics, results.Select(r => r.Stage), "lr"))
    .Table("Held-out loss after each stage (nats/token)", ["stage", .. evalKeys],
        results.Select(r => (IReadOnlyList<string>)[r.Stage, .. evalKeys.Select(k => r.Evaluation.TryGetValue(k, out var v) ? v.ToString("F4") : "–")]))
    .Table("Benchmarks after the last stage beside the paper's Table 3 (5-shot accuracy / pass@1, %)", ["model", .. BenchmarkNames],
        [["this run", .. BenchmarkNames.Select(n => results[^1].Evaluation.TryGetValue(n, out var v) ? v.ToString("F2") : "–")],
         .. PaperReference.Table3.Select(kv => (IReadOnlyList<string>)[$"paper: {kv.Key}", .. BenchmarkNames.Select(n => kv.Value[n].ToString("F2"))])])
    .Text("Where things are", $"Checkpoints {Path.Combine(RunDirectory, "checkpoints")}; exports {Path.Combine(RunDirectory, "exports")}; tokenizer {Path.Combine(work, "tokenizer")}.");
Log.LogInformation("Report: {Path}", report.Write(Path.Combine(RunDirectory, "report")));

// The paper's six benchmarks (§6), those whose files [regime.benchmarks] names; 5-shot as OpenCompass.
IEnumerable<BenchmarkResult> RunBenchmarks(LanguageModelScorer scorer)
{
    var b = regime.Benchmarks;
    if (b.Mmlu is { Length: > 0 } mmlu) yield return MultipleChoiceBenchmark.Mmlu(mmlu).Run(scorer, b.Shots, b.Limit, Cancellation);
    if (b.Cmmlu is { Length: > 0 } cmmlu) yield return MultipleChoiceBenchmark.Cmmlu(cmmlu).Run(scorer, b.Shots, b.Limit, Cancellation);
    if (b.Ceval is { Length: > 0 } ceval) yield return MultipleChoiceBenchmark.Ceval(ceval).Run(scorer, b.Shots, b.Limit, Cancellation);
    if (b.Gsm8k is { Length: > 0 } gsm) yield return MathBenchmark.Gsm8k(Path.Combine(gsm, "test.jsonl"), Path.Combine(gsm, "train.jsonl")).Run(scorer, b.Shots, 512, b.Limit, Cancellation);
    if (b.Math is { Length: > 0 } math) yield return MathBenchmark.Math(Path.Combine(math, "test"), Path.Combine(math, "train")).Run(scorer, b.Shots, 512, b.Limit, Cancellation);
    if (b.Humaneval is { Length: > 0 } he) yield return HumanEvalBenchmark.Read(he).Run(scorer, 512, b.Limit, Cancellation);
}

static string Shares(IEnumerable<SourceSettings> stage)
{
    var list = stage.ToList();
    double total = list.Sum(s => s.Tokens);
    return string.Join(", ", list.Select(s => $"{s.Name} {s.Tokens / total:P1}"));
}

/// <summary>[regime]: the paper's data, stages and the choices it leaves open.</summary>
public sealed class RegimeSettings
{
    /// <summary>Hugging Face directory of the base model (LLaMA2-13B): config.json, *.safetensors.</summary>
    public string BaseCheckpoint { get; set; } = "";
    /// <summary>config.json used for the plan when the base checkpoint is not on this machine (relative to the recipe).</summary>
    public string Architecture { get; set; } = "configs/llama2-13b-config.json";
    /// <summary>Where data, tokenizer and token files go (default: the run directory).</summary>
    public string? WorkDirectory { get; set; }
    public int NewCharacters { get; set; } = 7400;
    public int PadVocabularyTo { get; set; } = 128;
    /// <summary>Rows after extension the plan assumes (Ziya2: 39,424).</summary>
    public int VocabularySize { get; set; } = 39424;
    /// <summary>Documents per Chinese source read to count characters for the extension.</summary>
    public int ExtensionSampleDocuments { get; set; } = 1_000_000;
    /// <summary>Stage-1 budget; 0: the sum of the stage-1 sources' tokens.</summary>
    public double Stage1Tokens { get; set; }
    public double Stage2ReplayRatio { get; set; } = 1.0;
    public double Stage3ReplayTokens { get; set; } = 0.1e9;
    public long GlobalBatchTokens { get; set; } = 4L << 20;
    public bool OneSchedule { get; set; } = true;
    public bool MaskPrompt { get; set; } = true;
    public long HeldOutDocuments { get; set; } = 2000;
    public List<SourceSettings> Sources { get; set; } = [];
    public BenchmarkSettings Benchmarks { get; set; } = new();
}

/// <summary>[regime.benchmarks]: where the six benchmarks' released files are (unset ones are not run).</summary>
public sealed class BenchmarkSettings
{
    public string? Mmlu { get; set; }
    public string? Cmmlu { get; set; }
    public string? Ceval { get; set; }
    /// <summary>Directory with train.jsonl (shots) and test.jsonl.</summary>
    public string? Gsm8k { get; set; }
    /// <summary>Directory with train/ and test/.</summary>
    public string? Math { get; set; }
    public string? Humaneval { get; set; }
    public int Shots { get; set; } = 5;
    public int Limit { get; set; } = int.MaxValue;
}

/// <summary>One corpus of Table 2.</summary>
public sealed class SourceSettings
{
    public string Name { get; set; } = "";
    public string Language { get; set; } = "";
    /// <summary>First stage it is trained in (1, 2 or 3); later stages replay it.</summary>
    public int Stage { get; set; } = 1;
    /// <summary>Its tokens after the factory (Table 2): the mixture weight.</summary>
    public double Tokens { get; set; }
    /// <summary>Raw shards (files or directories).</summary>
    public List<string> Inputs { get; set; } = [];
    /// <summary>
    /// Q/A records (fields question and answer, as [filters.format-supervised] reads them) rendered with the prompt
    /// templates instead of going through the web-text factory.
    /// </summary>
    public bool Supervised { get; set; }
    /// <summary>Held-out documents of this source for per-stage evaluation.</summary>
    public string? HeldOut { get; set; }
}
