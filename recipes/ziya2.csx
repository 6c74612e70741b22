// The Ziya2 regime (paper §2–§7) at any scale; the config says which:
//   ziya2 run recipes/ziya2.csx -c recipes/configs/tiny.toml                  the embedded default: CPU, shipped data, minutes
//   ziya2 run recipes/ziya2.csx -c recipes/configs/ziya2-13b.toml --dry-run   the paper's plan (LLaMA2-13B, ~700B tokens), anywhere
//   ziya2 run recipes/ziya2.csx -c recipes/configs/ziya2-13b.toml -c my-cluster.toml
//
//   1. data factory      every corpus through the five steps (lib/factory.csx); supervised corpora only formatted with
//                        the Appendix A prompt templates
//   2. base model        loaded from [regime.base] checkpoint (LLaMA2-13B) and/or pre-trained here on English sources
//                        with the base tokenizer (the tiny config's stand-in for LLaMA2): stage "base"
//   3. tokenizer         §3.2: the corpus's most frequent missing Chinese characters added; new embedding rows the mean
//                        of the rows the base tokenizer split each character into (§3.3)
//   4. stages            [[regime.stages]] in order, each from the previous one's weights: its own sources plus replay of
//                        earlier stages by ratio (stage 2: 1:1) or by tokens/share from each (stage 3: 0.1B each)
//   5. evaluation        after every stage: held-out loss per source and the [[regime.benchmarks]]; scaling-law samples
//                        (§7) per stage and benchmark when [regime.scaling] asks for them
//   6. report            <run>/report/report.html: funnels, gate, tokenizer gain, curves, evaluation, Table 3 beside ours
// The plan (stages, tokens, steps, memory per GPU, time) is printed first, always; --dry-run stops there, and for a plan of
// several GPUs writes <run>/launch.sbatch (nodes × GPUs, srun one rank per GPU) that runs it.
// Re-running in the same --run-dir resumes where it stopped; a completed run is answered at once (--force: every stage is
// found complete and the report rewritten).
// Data parallel: `mpiexec -n 2 ziya2 run …` or srun runs this recipe on every rank unchanged; rank 0 prepares data,
// tokenizer and token files first (the others then find them done), every rank trains its part of each batch, rank 0
// alone evaluates and writes the report.
#load "lib/factory.csx"
#load "lib/regime.csx"

using Ziya2.DataFactory.Evaluation;
using Ziya2.DataFactory.Pipeline;
using Ziya2.DataFactory.Reading;
using Ziya2.Evaluation;
using Ziya2.Models.Checkpoints;
using Ziya2.Reporting;
using Ziya2.Scaling;
using Ziya2.Tokenization;
using Ziya2.Training;
using Ziya2.Training.Data;
using Ziya2.Training.Distributed;
using Ziya2.Training.Evaluation;
using Ziya2.Training.Planning;

var regime = Config.Get<RegimeSettings>("regime");
var trainer = Config.Get<TrainerOptions>("trainer");
var hardware = Config.Get<PlanOptions>("plan");
// All three check their values when bound: a bad value stops `validate`, `--dry-run` and the run with every problem listed.
var stages = regime.Stages;
IEnumerable<SourceSettings> InStage(int stage) => regime.Sources.Where(s => s.Stage == stage);

// ---- the plan ---------------------------------------------------------------------------------------------------
var architecture = regime.Base.Checkpoint is { Length: > 0 } ckpt && File.Exists(Path.Combine(ckpt, "config.json")) ? Path.Combine(ckpt, "config.json")
    : regime.Architecture is { Length: > 0 } a ? RecipePath(a) : null;
ModelDimensions dimensions;
if (architecture is not null) dimensions = ModelDimensions.FromHuggingFaceConfig(File.ReadAllText(architecture), architecture);
else using (var probe = Model("llama")) dimensions = ModelDimensions.FromHuggingFaceConfig(probe.ConfigJson, "[model]");   // small models only: built to be measured
dimensions = dimensions with { VocabSize = VocabularyExtension.PaddedRows(dimensions.VocabSize + regime.NewCharacters, regime.PadVocabularyTo) };
// Launched as ranks (mpiexec, srun), the plan is for this job's data-parallel ranks; alone, for [plan] gpus.
if (Launch.WorldSize > 1 && hardware.Gpus != Launch.WorldSize)
{
    Log.LogInformation("plan.gpus = {Gpus}, but this job has {Ranks} ranks: planning for the job", hardware.Gpus, Launch.WorldSize);
    hardware.Gpus = Launch.WorldSize;
}
long globalBatch = regime.GlobalBatchTokens > 0 ? regime.GlobalBatchTokens : trainer.TokensPerStep * hardware.Gpus;
var plannedStages = new List<PlannedStage>();
if (regime.Base.Steps > 0)
    plannedStages.Add(new PlannedStage("base", regime.Base.Steps * (double)globalBatch, "documents", $"{string.Join(", ", regime.Base.Sources)} (base tokenizer)"));
for (int i = 0; i < stages.Count; i++)
    plannedStages.Add(new PlannedStage(stages[i].Name, StageTokens(i + 1), InStage(i + 1).All(s => s.IsSupervised(regime)) ? "samples" : "documents", Describe(i + 1)));
var plan = new TrainingPlan
{
    Model = dimensions, Stages = plannedStages, SequenceLength = trainer.SequenceLength, MicroBatch = trainer.MicroBatch,
    GlobalBatchTokens = globalBatch, ActivationCheckpointing = Config.Get<bool?>("model.activation_checkpointing") ?? false, Hardware = hardware,
    WeightBytes = Config.Get<string?>("model.precision") == "bf16" ? 2 : 4,
};
Console.Out.WriteLine($"{regime.Title} plan (architecture from {architecture ?? "[model]"}):");
Console.Out.Write(plan.Render());
if (DryRun)
{
    // A plan of several GPUs gets its launch script, in the run directory its ranks will train in.
    if (hardware.Gpus > 1)
    {
        var script = WriteLaunchFile("launch.sbatch", runDirectory => SlurmLaunch.Render(plan, Config.Get<SlurmLaunchOptions>("launch.slurm"), RerunCommand, runDirectory, regime.Title));
        Console.Out.WriteLine($"Launch script: {script}\n  submit: sbatch {script}   (or: mpiexec -n {hardware.Gpus} with the command in it)");
    }
    return;
}
if (hardware.Gpus > 1 && Launch.WorldSize == 1)
    throw new InvalidOperationException($"the plan needs {hardware.Gpus} GPUs, and this process was started alone: launch it as {hardware.Gpus} ranks — the script " +
        "`--dry-run` writes into the run directory (sbatch), or mpiexec/srun -n " + hardware.Gpus + " with this command; for a single-device run set plan.gpus = 1");
if (Launch.WorldSize > 1 && hardware.PipelineParallel != 1)
    throw new InvalidOperationException($"plan.pipeline_parallel = {hardware.PipelineParallel}: this engine trains data parallel only (ZeRO-1/2 for memory); set it to 1");
if (trainer.TokensPerStep * Launch.WorldSize != plan.StepTokens)
    throw new InvalidOperationException($"trainer: {trainer.TokensPerStep * Launch.WorldSize:N0} tokens per step over {Launch.WorldSize} rank(s), but the plan's global batch needs {plan.GradientAccumulation} " +
        $"accumulation steps ({plan.StepTokens:N0} tokens): set trainer.gradient_accumulation = {plan.GradientAccumulation}");

// Training curves also as TensorBoard event files (tensorboard --logdir <run>/tensorboard); the console and
// metrics.jsonl are subscribed by the host.
Events.Subscribe(new TensorBoardSink(Path.Combine(RunDirectory, "tensorboard")));

// ---- 1. the data factory ------------------------------------------------------------------------------------------
var work = regime.WorkDirectory is { Length: > 0 } w ? Path.GetFullPath(w) : RunDirectory;
var factory = Config.Get<FactorySettings>("factory");
var evaluation = Config.Get<EvaluationSettings>("evaluation");
var missing = regime.AllCorpora().SelectMany(c => c.Inputs.Select(i => (c.Name, Input: RecipePath(i)))).Where(x => !File.Exists(x.Input) && !Directory.Exists(x.Input)).ToList();
if (missing.Count > 0) throw new InvalidOperationException($"inputs not found: {string.Join("; ", missing.Select(m => $"{m.Name}: {m.Input}"))}");
var kept = new Dictionary<string, string>();
var funnels = new Dictionary<string, FactoryOutcome>();
// Rank 0 runs the factory; the other ranks then run it too and find every pipeline done (their kept paths, funnels).
MainProcessFirst(() => { foreach (var corpus in regime.AllCorpora())
{
    var output = Path.Combine(work, "data", corpus.Name);
    var inputs = corpus.Inputs.Select(RecipePath).ToList();
    if (corpus.Supervised) kept[corpus.Name] = FormatSupervised(corpus.Name, inputs, output);
    else if (corpus.Code)
    {
        funnels[corpus.Name] = RunCodeFactory(inputs, output, factory, corpus.Name);
        kept[corpus.Name] = funnels[corpus.Name].Kept;
    }
    else
    {
        funnels[corpus.Name] = RunFactory(inputs, output, factory, evaluation, corpus.Name);
        kept[corpus.Name] = funnels[corpus.Name].Kept;
    }
} });
// A source's documents: its corpus's output, or only those of one language (supervised corpora carry no language).
Func<Document, bool>? LanguageOf(SourceSettings s) => s.OnlyLanguage && !s.IsSupervised(regime) ? d => d.Language == s.Language : null;

// ---- 2. the base model ---------------------------------------------------------------------------------------------
var baseTokenizer = Tokenizer("sentencepiece");
var model = Model("llama");
var tokens = Path.Combine(work, "tokens");
TokenFile Tokens(string name, ITokenizer t, string input, Func<Document, bool>? include = null) =>
    TokenFileBuilder.Build([input], t, Path.Combine(tokens, name), null, Cancellation, include);
// Continued pre-training starts from the base weights only (no optimizer state): distinct from resuming a run.
if (regime.Base.Checkpoint is { Length: > 0 } baseCheckpoint) HuggingFaceCheckpoint.Load(model, baseCheckpoint);
if (model.VocabSize < baseTokenizer.VocabSize) throw new InvalidOperationException($"the model has {model.VocabSize} embedding rows < the base tokenizer's {baseTokenizer.VocabSize} pieces");
Log.LogInformation("Model: {Params:N0} parameters; base tokenizer {Vocab} pieces", model.ParameterCount, baseTokenizer.VocabSize);
var configHash = Config.Fingerprint("regime", "trainer", "model", "optimizer", "scheduler", "tokenizer", "factory", "filters");
var results = new List<StageResult>();
if (regime.Base.Steps > 0)
{
    var baseSources = regime.Base.Sources.Select(name => regime.Source(name)).ToList();
    var baseFiles = MainProcessFirst(() => baseSources.Select(s => (s.Name, File: Tokens("base-" + s.Name, baseTokenizer, kept[s.CorpusName], LanguageOf(s)))).ToList());
    var baseHeldOut = MainProcessFirst(() => baseSources.Where(s => s.HeldOut is { Length: > 0 }).ToDictionary(s => $"heldout_{s.Name}_base_tokens", s => Tokens("eval-base-" + s.Name, baseTokenizer, RecipePath(s.HeldOut!))));
    int baseEos = baseTokenizer.Vocabulary.EosId ?? 2, basePad = baseTokenizer.Vocabulary.PadId ?? baseEos;
    using var baseOptimizer = ShardedOptimizer.For(Optimizer("adamw"), trainer).Create(model.GetParameterGroups());
    var baseRunner = new StageRunner(model, baseOptimizer, Scheduler("cosine"), trainer, RunDirectory, configHash, Events)
    {
        ExportFormat = null,
        TokenizerModel = Path.GetFullPath(Config.Get<string>("tokenizer.model")),   // beside every checkpoint's weights
        // Nats per token of the base tokenizer: not comparable with the later stages' numbers (another tokenizer).
        Evaluate = _ => baseHeldOut.ToDictionary(h => h.Key, h => HeldOutLoss.Measure(model, h.Value, trainer.SequenceLength, maxDocuments: regime.HeldOutDocuments).Loss),
    };
    var mixture = new MixtureSampler(baseFiles.Select(f => new MixtureSource(f.Name, f.File, PackingMode.Documents, f.File.Tokens)).ToList(), trainer.SequenceLength, baseEos, basePad, (ulong)Seed);
    results.AddRange(baseRunner.Run([new StageSpec("base", mixture, regime.Base.Steps)], Cancellation));
    if (Cancellation.IsCancellationRequested) return;
}

// ---- 3. tokenizer extension with mean initialisation (§3.2–3.3) ------------------------------------------------------
// Characters are counted in the documents the factory kept as Chinese, in their original script (read back from the
// raw inputs): the factory's T→S step would otherwise leave almost only simplified characters to count (§3.2 adds both).
var chinese = regime.Sources.Where(s => s.Language == "zh" && !s.IsSupervised(regime)).Select(s => s.CorpusName).Distinct()
    .SelectMany(c => OriginalTexts(regime.AllCorpora().First(x => x.Name == c).Inputs.Select(RecipePath).ToList(), kept[c], "zh", regime.ExtensionSampleDocuments));
// Every rank extends its own model the same way (deterministic); rank 0 writes the extended tokenizer first.
var (tokenizer, added) = MainProcessFirst(() => ExtendVocabulary(baseTokenizer, model, chinese, regime.NewCharacters, regime.PadVocabularyTo, Path.Combine(work, "tokenizer")));
var traditional = VocabularyExtension.Traditional(tokenizer.Vocabulary.Pieces.Skip(baseTokenizer.VocabSize), Filter("t2s"));
// The plan assumed every asked-for character would be found; a small corpus may hold fewer.
if (model.VocabSize != dimensions.VocabSize)
    Log.Log(model.VocabSize > dimensions.VocabSize ? LogLevel.Warning : LogLevel.Information, "Vocabulary: {Rows} model rows after adding {Added} of {Asked} characters (the plan assumed {Planned})",
        model.VocabSize, added, regime.NewCharacters, dimensions.VocabSize);
var efficiency = regime.Sources.Where(s => s.HeldOut is { Length: > 0 } && !s.IsSupervised(regime)).Select(s =>
{
    var texts = ReadDocuments(RecipePath(s.HeldOut!)).Select(d => d.Text).ToList();
    return (Source: s.Name, Base: TokensPerChar(baseTokenizer, texts), Extended: TokensPerChar(tokenizer, texts));
}).ToList();
Log.LogInformation("Tokenizer: {Added} Chinese characters added ({Simplified} simplified or shared, {Traditional} traditional), {Base} → {Extended} pieces; tokens/char {Gains}",
    added, added - traditional.Count, traditional.Count, baseTokenizer.VocabSize, tokenizer.VocabSize, string.Join(", ", efficiency.Select(e => $"{e.Source} {e.Base:F3} → {e.Extended:F3}")));

// ---- 4. token files and the stages -----------------------------------------------------------------------------------
var files = MainProcessFirst(() => regime.Sources.ToDictionary(s => s.Name, s => Tokens(s.Name, tokenizer, kept[s.CorpusName], LanguageOf(s))));
foreach (var (name, f) in files) Log.LogInformation("Tokens: {Source} {Documents:N0} documents, {Tokens:N0} tokens", name, f.Documents, f.Tokens);
var heldOut = MainProcessFirst(() => regime.Sources.Where(s => s.HeldOut is { Length: > 0 }).ToDictionary(s => "heldout_" + s.Name, s =>
{
    var input = RecipePath(s.HeldOut!);
    // Supervised held-out sets are rendered with the same templates as their training data.
    if (s.IsSupervised(regime)) input = FormatSupervised("eval-" + s.Name, [input], Path.Combine(work, "data", "eval-" + s.Name), parallelism: 1);
    return Tokens("eval-" + s.Name, tokenizer, input);   // held-out files are the source's own: no language split
}));

int eos = tokenizer.Vocabulary.EosId ?? 2, pad = tokenizer.Vocabulary.PadId ?? eos;
double Weight(SourceSettings s) => s.Tokens > 0 ? s.Tokens : files[s.Name].Tokens;
MixtureSource Source(SourceSettings s, double weight) =>
    new(s.Name, files[s.Name], s.IsSupervised(regime) ? PackingMode.Samples : PackingMode.Documents, weight, regime.MaskPrompt);
var benchmarks = regime.Benchmarks.Select(b => b.Load(RecipePath)).ToList();
using (var optimizer = ShardedOptimizer.For(Optimizer("adamw"), trainer).Create(model.GetParameterGroups()))
{
    var runner = new StageRunner(model, optimizer, Scheduler("cosine"), trainer, RunDirectory, configHash, Events)
    {
        TokenizerModel = Path.Combine(work, "tokenizer", "tokenizer.model"),   // the extended tokenizer, in every checkpoint and export
        Schedule = regime.OneSchedule ? ScheduleSpan.AllStages : ScheduleSpan.PerStage,
        ExportDtype = regime.ExportDtype,
        // Figure 6: the starting model, then every N tokens inside the stages, and every stage's end.
        EvaluateBeforeTraining = regime.EvaluateBeforeTraining,
        EvaluateEveryTokens = regime.EvaluateEveryTokens,
        Evaluate = point =>
        {
            var scores = heldOut.ToDictionary(h => h.Key, h => HeldOutLoss.Measure(model, h.Value, trainer.SequenceLength, maxDocuments: regime.HeldOutDocuments).Loss);
            var scorer = new LanguageModelScorer(model, tokenizer);
            foreach (var (settings, benchmark) in regime.Benchmarks.Zip(benchmarks))
            {
                var result = benchmark.Run(scorer, Cancellation);
                if (result.Skipped is not null) { Log.LogWarning("Benchmark {Name} skipped: {Why}", settings.Name, result.Skipped); continue; }
                (scores[settings.Name], scores[settings.Name + "_answer_loss"]) = (100 * result.Score, result.AnswerLoss);
            }
            Log.LogInformation("Evaluation at {Stage} step {Step} ({Tokens:N0} tokens): {Scores}", point.Stage, point.Step, point.Tokens,
                string.Join(", ", scores.Select(kv => $"{kv.Key} {kv.Value:F3}")));
            return scores;
        },
    };
    var specs = stages.Select((stage, i) => new StageSpec(stage.Name, new MixtureSampler(Mixture(i + 1), trainer.SequenceLength, eos, pad, (ulong)Seed), plan.Steps(plannedStages[plannedStages.Count - stages.Count + i]))).ToList();
    results.AddRange(runner.Run(specs, Cancellation));
}
foreach (var r in results)
    Log.LogInformation("Stage {Stage}: {How}{Eval}", r.Stage,
        r.Interrupted ? $"interrupted at step {r.Steps}" : r.Resumed && double.IsNaN(r.FirstLoss) ? "already complete" : $"trained, loss {r.FirstLoss:F3} → {r.LastLoss:F3}",
        r.Evaluation.Count == 0 ? "" : "; evaluation " + string.Join(", ", r.Evaluation.Select(kv => $"{kv.Key} {kv.Value:F3}")));   // none on ranks other than 0, or when interrupted
if (Cancellation.IsCancellationRequested) return;
if (!Launch.IsMain) return;   // the evaluation numbers, the samples, the report and their checks are rank 0's

// ---- 5b. data-centric scaling samples (§7) -----------------------------------------------------------------------------
// Per stage and benchmark: tokens trained so far, the stage's data attributes (the automatic proxy for coherence and
// readability; similarity as the mean cosine between embeddings of the stage's data and the benchmark's questions, by a
// fixed embedder: the model's weights before the first stage) and the benchmark's answer loss after the stage.
var trainedStages = results.Where(r => r.Stage != "base" && !r.Interrupted).ToList();
var samples = new List<(ScalingSample Sample, IReadOnlyList<string> Extra)>();
var plannerChecks = new List<(string Stage, string Benchmark, PlannedMixture Mixture, IReadOnlyList<SourceProfile> Sources, double Measured)>();
var plannerRows = new List<(string Stage, string Benchmark, double Tokens, double Measured, double InSample, double OutOfSample)>();
if (regime.Scaling.Documents > 0 && trainedStages.Count > 0 && regime.Benchmarks.Count > 0)
{
    using var embedderModel = Model("llama");
    if (regime.Base.Steps > 0) HuggingFaceCheckpoint.Load(embedderModel, Path.Combine(results[0].Checkpoint, "model"));
    else if (regime.Base.Checkpoint is { Length: > 0 } c) HuggingFaceCheckpoint.Load(embedderModel, c);
    var embedder = new ModelEmbedder(embedderModel, baseTokenizer, maxTokens: trainer.SequenceLength);
    var advertising = PhraseMatcher.Load(evaluation.AdvertisingLists.Select(Path.GetFullPath));
    // Each benchmark's questions are embedded once, each stage's documents once (the mean of unit embeddings on each side).
    var questions = regime.Benchmarks.Zip(benchmarks).ToDictionary(b => b.First.Name, b => DataSimilarity.MeanUnit(embedder, b.Second.Questions.Take(regime.Scaling.Documents).ToList()));
    // The first documents of a set of sources, measured and embedded once: a stage of one source and that source in
    // the planner's view (5c) are the same documents.
    var measuredSets = new Dictionary<string, (DataAttributes Attributes, double[] Embedded)>();
    (DataAttributes Attributes, double[] Embedded) Measure(IReadOnlyList<SourceSettings> sources)
    {
        var docs = sources.SelectMany(s => ReadDocuments(kept[s.CorpusName]).Where(d => LanguageOf(s)?.Invoke(d) ?? true).Select(d => (Source: s.Name, Document: d)))
            .Take(regime.Scaling.Documents).ToList();
        // Keyed by the sources the documents came from: a stage whose first source fills the sample is that source's sample.
        var key = string.Join("\u0001", docs.Select(x => x.Source).Distinct());
        if (measuredSets.TryGetValue(key, out var known)) return known;
        var texts = docs.Select(x => x.Document).ToList();
        return measuredSets[key] = (DataAttributes.Proxy(texts, advertising), DataSimilarity.MeanUnit(embedder, texts.Select(d => d.Text).ToList()));
    }
    double trained = 0;
    foreach (var r in trainedStages)
    {
        trained += r.Steps * (double)plan.StepTokens;   // all ranks' tokens
        int index = stages.FindIndex(s => s.Name == r.Stage) + 1;
        var (attributes, stageData) = Measure([.. InStage(index)]);
        foreach (var (bench, testSet) in questions)
        {
            if (!r.Evaluation.TryGetValue(bench + "_answer_loss", out var loss)) continue;
            double similarity = DataSimilarity.AverageCosine(stageData, testSet);
            // A mean cosine can in principle be negative; the law's attributes live in [0, 1].
            samples.Add((new ScalingSample(trained, attributes.Coherence, attributes.Readability, Math.Clamp(similarity, 0, 1), loss), [r.Stage, bench]));
        }
    }
    var samplesPath = Path.Combine(RunDirectory, "scaling-samples.csv");
    ScalingSamples.Write(samplesPath, samples, ["stage", "benchmark"]);   // rewritten from this run's numbers
    Log.LogInformation("Scaling-law samples: {Count} rows in {Path} (fit them with: ziya2 scaling fit)", samples.Count, samplesPath);

    // ---- 5c. the mixture planner against the mixtures that ran (§7) ----
    // The planner's view: each source on its own (the same attribute proxy; similarity to each benchmark's questions),
    // each stage's mixture as the tokens drawn from every source up to that stage's end (replay counted with its source),
    // attributes combined by token share — then the law's prediction beside the answer loss measured there. The law is
    // fitted to this run's samples twice: with every stage (in-sample), and without the stage predicted (out of sample).
    var profiles = new Dictionary<string, (DataAttributes Attributes, Dictionary<string, double> Similarity)>();
    var drawn = new Dictionary<string, double>();
    double StageTokensRun(StageResult r) => r.Steps * (double)plan.StepTokens;
    foreach (var r in trainedStages)
    {
        int index = stages.FindIndex(s => s.Name == r.Stage) + 1;
        var mixture = Mixture(index);
        double weights = mixture.Sum(m => m.Weight);
        foreach (var m in mixture)
        {
            drawn[m.Name] = drawn.GetValueOrDefault(m.Name) + StageTokensRun(r) * m.Weight / weights;
            if (profiles.ContainsKey(m.Name)) continue;
            var (sourceAttributes, embedded) = Measure([regime.Sources.First(s => s.Name == m.Name)]);
            profiles[m.Name] = (sourceAttributes, questions.ToDictionary(q => q.Key, q => Math.Clamp(DataSimilarity.AverageCosine(embedded, q.Value), 0, 1)));
        }
        foreach (var bench in questions.Keys)
            if (r.Evaluation.TryGetValue(bench + "_answer_loss", out var measured))
                plannerChecks.Add((r.Stage, bench, new PlannedMixture(r.Stage, new Dictionary<string, double>(drawn)),
                    [.. profiles.Select(p => new SourceProfile(p.Key, drawn.GetValueOrDefault(p.Key), p.Value.Attributes.Coherence, p.Value.Attributes.Readability, p.Value.Similarity[bench]))], measured));
    }
    ScalingLaw? Fitted(Func<string, bool> keep)
    {
        var points = samples.Where(x => keep(x.Extra[0])).Select(x => x.Sample).ToList();
        // Six parameters need six samples: a run of few stages and benchmarks has no out-of-sample fit.
        return points.Count < ScalingLaw.Names.Length ? null : ScalingLawFit.Fit(points, new FitOptions { Grid = StartGrid.Coarse }).Law;
    }
    var everyStage = Fitted(_ => true);
    var withoutStage = trainedStages.ToDictionary(r => r.Stage, r => Fitted(stage => stage != r.Stage));
    foreach (var check in plannerChecks)
    {
        double Predicted(ScalingLaw? law) => law is null ? double.NaN : MixturePlanner.Predict(law, check.Sources, check.Mixture).Loss;
        plannerRows.Add((check.Stage, check.Benchmark, check.Mixture.TotalTokens, check.Measured, Predicted(everyStage), Predicted(withoutStage[check.Stage])));
    }
    foreach (var row in plannerRows)
        Log.LogInformation("Planner: {Stage}/{Benchmark} after {Tokens:N0} tokens: measured {Measured:F3}, predicted {InSample:F3} (law fitted to every stage){OutOfSample}",
            row.Stage, row.Benchmark, row.Tokens, row.Measured, row.InSample, double.IsNaN(row.OutOfSample) ? "" : $", {row.OutOfSample:F3} (fitted without this stage)");
}

// ---- 6. the run report --------------------------------------------------------------------------------------------------
var metrics = MetricsLog.Read(Path.Combine(RunDirectory, "metrics.jsonl"));
var stageNames = results.Select(r => r.Stage).ToList();
string F(double v) => double.IsFinite(v) ? v.ToString("F3", System.Globalization.CultureInfo.InvariantCulture) : "–";
var evalKeys = results.SelectMany(r => r.Evaluation.Keys).Distinct().ToList();
var report = new RunReport($"{regime.Title}: data factory → base → tokenizer extension → {stages.Count} stages")
    .Text("Plan", plan.Render())
    // The plan counts the vocabulary it was told to expect; the model has the rows the extension really added.
    .Text("Model", $"{model.ParameterCount:N0} parameters with {model.VocabSize:N0} vocabulary rows" +
                   (model.VocabSize != dimensions.VocabSize ? $" (the plan above counted {dimensions.Parameters:N0} for the {dimensions.VocabSize:N0} rows it assumed: {regime.NewCharacters} characters asked, {added} found in the corpus)" : "") +
                   $". Paths below are relative to the run directory, {RunDirectory}.");
foreach (var (name, outcome) in funnels)
{
    report.BarChart($"Data funnel ({name}): documents left after each factory step", "documents", outcome.Funnel.Select(f => (f.Step, (double)f.Documents)).ToList());
    if (outcome.Gate is { } gate)
        report.Table($"Data gate ({name})", ["criterion", "unqualified rate", "passed"], gate.Criteria.Select(c => (IReadOnlyList<string>)[c.Name, c.Rate.ToString("P3"), c.Passed ? "yes" : "NO"]));
    if (outcome.Rounds is { Count: > 0 } rounds)
        report.Table($"Data gate rounds ({name}; evaluation.auto_tighten{(evaluation.AutoTighten.Enabled ? "" : " off")}): what each round changed, what it kept, what still failed",
            ["round", "changed", "re-ran", "kept documents", "failing criteria", "gate"],
            rounds.Select(r => (IReadOnlyList<string>)[r.Round.ToString(), r.ChangedText, string.Join(", ", r.Rerun), r.KeptText, r.FailingText, r.Gate.Passed ? "pass" : "fail"]));
}
report.Text("Vocabulary extension", $"{added} Chinese characters added to the base tokenizer's {baseTokenizer.VocabSize} pieces: {added - traditional.Count} simplified or shared, " +
                                     $"{traditional.Count} traditional (counted before the factory's T→S); model rows {model.VocabSize}.")
    .Table("Tokenizer extension", ["held-out text", "base tokens/char", "extended tokens/char", "gain"],
        efficiency.Select(e => (IReadOnlyList<string>)[e.Source, F(e.Base), F(e.Extended), $"{e.Base / e.Extended:F2}×"]))
    .LineChart("Training loss per stage", "step", "loss", MetricsLog.SeriesByEvent(metrics, stageNames, "loss"))
    .LineChart("Learning rate per stage", "step", "learning rate", MetricsLog.SeriesByEvent(metrics, stageNames, "lr"))
    .LineChart("Throughput", "step", "tokens/s", MetricsLog.SeriesByEvent(metrics, stageNames, "tokens_per_second"))
    .Table("Stages", ["stage", "steps", "first loss", "last loss", "checkpoint (in the run directory)"],
        results.Select(r =>
        {
            // From the metrics log, so a run resumed after completion still shows how each stage went.
            var (_, loss) = MetricsLog.Series(metrics, r.Stage, "loss");
            return (IReadOnlyList<string>)[r.Stage, r.Steps.ToString(), F(loss.FirstOrDefault(double.NaN)), F(loss.LastOrDefault(double.NaN)), Path.GetRelativePath(RunDirectory, r.Checkpoint)];
        }))
    .Table("Evaluation after each stage (held-out and answer losses in nats/token; benchmark scores in %)", ["stage", .. evalKeys],
        results.Select(r => (IReadOnlyList<string>)[r.Stage, .. evalKeys.Select(k => r.Evaluation.TryGetValue(k, out var v) ? F(v) : "–")]));
// Figure 6: every evaluation of the stages (before training, every regime.evaluate_every_tokens, each stage's end) by tokens trained.
var evaluated = evalKeys.Where(k => !k.EndsWith("_base_tokens", StringComparison.Ordinal)).ToList();
(string, double[], double[]) Curve(string key) { var (x, y) = MetricsLog.Series(metrics, StageRunner.EvaluationSeries, key); return (key, x, y); }
if (evaluated.Count > 0)
    report.LineChart("Held-out loss during training (nats/token)", "tokens trained", "loss", evaluated.Where(k => k.StartsWith("heldout_", StringComparison.Ordinal)).Select(Curve).ToList())
        .LineChart("Benchmarks during training (score, %)", "tokens trained", "score", regime.Benchmarks.Select(b => Curve(b.Name)).ToList())
        .LineChart("Benchmark answer loss during training (nats/token)", "tokens trained", "answer loss", regime.Benchmarks.Select(b => Curve(b.Name + "_answer_loss")).ToList());
var paperBenchmarks = PaperReference.Table3.First().Value.Keys.Where(k => regime.Benchmarks.Any(b => b.Name == k)).ToList();
if (paperBenchmarks.Count > 0 && results.Count > 0)
    report.Table("Benchmarks after the last stage beside the paper's Table 3 (5-shot accuracy / pass@1, %)", ["model", .. paperBenchmarks],
        [["this run", .. paperBenchmarks.Select(n => results[^1].Evaluation.TryGetValue(n, out var v) ? v.ToString("F2") : "–")],
         .. PaperReference.Table3.Select(kv => (IReadOnlyList<string>)[$"paper: {kv.Key}", .. paperBenchmarks.Select(n => kv.Value[n].ToString("F2"))])]);
if (samples.Count > 0)
    report.Table("Scaling-law samples (coherence/readability: automatic proxy; similarity: mean cosine to the benchmark's questions)",
        ["stage", "benchmark", "tokens", "coherence", "readability", "similarity", "answer loss"],
        samples.Select(x => (IReadOnlyList<string>)[x.Extra[0], x.Extra[1], $"{x.Sample.Tokens:N0}", F(x.Sample.Coherence), F(x.Sample.Readability), F(x.Sample.Similarity), F(x.Sample.Loss)]));
if (plannerRows.Count > 0)
    report.Table("Mixture planner: predicted vs measured held-out answer loss per stage (nats/token; the stage's mixture as tokens per source, " +
                 "attributes combined by token share; the law fitted to this run's samples — with every stage, and without the stage predicted where the other stages give ≥ 6 samples, else –)",
        ["stage", "benchmark", "tokens", "measured", "predicted (law fitted to every stage)", "predicted (fitted without this stage)"],
        plannerRows.Select(r => (IReadOnlyList<string>)[r.Stage, r.Benchmark, $"{r.Tokens:N0}", F(r.Measured), F(r.InSample), F(r.OutOfSample)]));
report.Text("Where things are", $"Checkpoints: {Path.Combine(RunDirectory, "checkpoints")}; Hugging Face exports per stage: {Path.Combine(RunDirectory, "exports")}; " +
                               $"extended tokenizer: {Path.Combine(work, "tokenizer")}; data-factory reports: {string.Join(", ", funnels.Values.Select(f => f.EvaluationReport).OfType<string>())}; " +
                               $"metrics: {Path.Combine(RunDirectory, "metrics.jsonl")}.");
Log.LogInformation("Report: {Report}", report.Write(Path.Combine(RunDirectory, "report")));

// Every stage must have learned something: its last loss below its first (a stage found complete was checked when it ran).
var flat = results.Where(r => double.IsFinite(r.FirstLoss) && !(r.LastLoss < r.FirstLoss)).ToList();
if (flat.Count > 0) throw new InvalidOperationException($"loss did not fall in stage(s) {string.Join(", ", flat.Select(r => $"{r.Stage} ({r.FirstLoss:F3} → {r.LastLoss:F3})"))}");

// ---- the regime's arithmetic -------------------------------------------------------------------------------------------
// A stage's budget: its steps if given, its tokens if given, else its own sources' tokens plus the replay it asks for.
double StageTokens(int index)
{
    var stage = stages[index - 1];
    if (stage.Steps > 0) return stage.Steps * (double)globalBatch;
    if (stage.Tokens > 0) return stage.Tokens;
    double fresh = InStage(index).Sum(s => s.Tokens);
    if (fresh <= 0) throw new InvalidOperationException($"stage {stage.Name}: give steps or tokens, or tokens for each of its sources");
    if (stage.ReplayRatio > 0) return fresh * (1 + stage.ReplayRatio);
    if (stage.ReplayTokensEach > 0) return fresh + (index - 1) * stage.ReplayTokensEach;
    return stage.ReplayShareEach > 0 ? fresh / (1 - (index - 1) * stage.ReplayShareEach) : fresh;
}

// Weights of a stage's mixture: its own sources by tokens; replay of all earlier stages' sources at a ratio (the paper's
// stage 2: 1:1), or a fixed share from each earlier stage, split within that stage by tokens (stage 3: 0.1B of ~0.3B each).
IReadOnlyList<MixtureSource> Mixture(int index)
{
    var stage = stages[index - 1];
    var fresh = InStage(index).Select(s => Source(s, Weight(s))).ToList();
    var earlier = Enumerable.Range(1, index - 1).Select(k => InStage(k).ToList()).Where(g => g.Count > 0).ToList();
    if (stage.ReplayRatio > 0) return Replay.ByRatio(fresh, earlier.SelectMany(g => g).Select(s => Source(s, Weight(s))).ToList(), stage.ReplayRatio);
    double share = stage.ReplayShareEach > 0 ? stage.ReplayShareEach : stage.ReplayTokensEach > 0 ? stage.ReplayTokensEach / StageTokens(index) : 0;
    if (share <= 0 || earlier.Count == 0) return fresh;
    if (share * earlier.Count >= 1) throw new InvalidOperationException($"stage {stage.Name}: replaying {share:P1} from each of {earlier.Count} earlier stage(s) leaves nothing for its own data");
    double freshTotal = fresh.Sum(s => s.Weight);
    return [.. fresh.Select(s => s with { Weight = (1 - share * earlier.Count) * s.Weight / freshTotal }),
            .. earlier.SelectMany(g => g.Select(s => Source(s, share * Weight(s) / g.Sum(Weight))))];
}

static string Amount(double tokens) => tokens >= 1e8 ? $"{tokens / 1e9:0.##}B" : tokens >= 1e6 ? $"{tokens / 1e6:0.##}M" : $"{tokens:N0} tokens";

string Describe(int index)
{
    var stage = stages[index - 1];
    var list = InStage(index).ToList();
    double total = list.Sum(s => s.Tokens);
    var own = string.Join(", ", list.Select(s => total > 0 ? $"{s.Name} {s.Tokens / total:P1}" : s.Name));
    return stage.ReplayRatio > 0 ? $"{own} + earlier stages' replay {stage.ReplayRatio:0.##}:1"
         : stage.ReplayTokensEach > 0 ? $"{own} + {Amount(stage.ReplayTokensEach)} from each earlier stage"
         : stage.ReplayShareEach > 0 ? $"{own} + {stage.ReplayShareEach:P0} from each earlier stage" : own;
}
