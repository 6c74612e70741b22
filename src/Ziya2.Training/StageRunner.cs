using Ziya2.Events;
using Ziya2.Models;
using Ziya2.Optimization;
using Ziya2.Models.Checkpoints;
using Ziya2.Distributed;

namespace Ziya2.Training;

/// <summary>Whether one learning-rate schedule spans every stage or restarts in each (the paper: one cosine over the whole run is our default reading; both are offered).</summary>
public enum ScheduleSpan
{
    /// <summary>Each stage warms up and decays on its own.</summary>
    PerStage,
    /// <summary>One schedule over the sum of all stages' steps.</summary>
    AllStages,
}

/// <summary>Where an evaluation happens: in (or at the end of) <paramref name="Stage"/> after <paramref name="Step"/> of its steps, <paramref name="Tokens"/> trained by this runner so far.</summary>
public sealed record EvaluationPoint(string Stage, long Step, double Tokens)
{
    /// <summary>The evaluation before the first step (the base model, as the paper measures it).</summary>
    public bool BeforeTraining => Step == 0 && Tokens == 0;
}

/// <summary>
/// Runs stages in order (paper §4): each starts from the previous stage's final weights (the live model), resumes from
/// its own checkpoints, and is exported (Hugging Face format by default) when it completes. Stops after a stage that was
/// interrupted, so a re-run continues where it stopped. After each completed stage (also one found complete on resume)
/// the <see cref="Evaluate"/> hook runs on that stage's final weights and its numbers go into the stage's result; with
/// <see cref="EvaluateEveryTokens"/> it also runs inside stages, and with <see cref="EvaluateBeforeTraining"/> once before
/// the first step (a fresh run only), as the paper's Figure 6 does. Every evaluation is also published as a
/// <see cref="RunEvents.Metrics"/> event of series <see cref="EvaluationSeries"/> whose step is the tokens trained so far,
/// for curves. Progress and metrics go onto <paramref name="events"/> (see <see cref="Trainer"/>). Under data parallelism
/// every rank runs the stages; rank 0 alone exports, evaluates and publishes.
/// </summary>
public sealed class StageRunner(ILanguageModel model, IOptimizer optimizer, ILearningRateScheduler scheduler, TrainerOptions options,
    string runDirectory, string configHash, IEventBus? events = null)
{
    /// <summary>Export format at the end of each stage (null: none) and the dtype of its tensors.</summary>
    public string? ExportFormat { get; init; } = "hf";
    public string ExportDtype { get; init; } = "bf16";
    public ScheduleSpan Schedule { get; init; } = ScheduleSpan.PerStage;
    /// <summary>Evaluation after each completed stage (held-out loss per source, benchmarks …); null: none.</summary>
    public Func<EvaluationPoint, IReadOnlyDictionary<string, double>>? Evaluate { get; init; }
    /// <summary>Tokens between evaluations inside a stage (rounded to whole steps); 0: at stage ends only.</summary>
    public double EvaluateEveryTokens { get; init; }
    /// <summary>Evaluate before the first step of a fresh run (the starting model).</summary>
    public bool EvaluateBeforeTraining { get; init; }
    /// <summary>The run's <c>tokenizer.model</c>: copied into every checkpoint and export (null: none).</summary>
    public string? TokenizerModel { get; init; }
    /// <summary>The job's ranks (default: this process's, from the launcher's environment).</summary>
    public IProcessGroup Group { get; init; } = ProcessGroups.Current;
    /// <summary>The metrics series evaluations are published under.</summary>
    public const string EvaluationSeries = "eval";

    public IReadOnlyList<StageResult> Run(IReadOnlyList<StageSpec> stages, CancellationToken cancellation = default)
    {
        var store = new CheckpointStore(Path.Combine(runDirectory, "checkpoints"), options.KeepLast);
        long total = stages.Sum(s => s.Steps), offset = 0;
        double stepTokens = (double)options.TokensPerStep * Group.WorldSize;   // a step's tokens over all ranks
        long StepsBefore(string name) => stages.TakeWhile(s => s.Name != name).Sum(s => s.Steps);
        IReadOnlyDictionary<string, double> EvaluateAt(string stage, long step)
        {
            var point = new EvaluationPoint(stage, step, (StepsBefore(stage) + step) * stepTokens);
            var scores = Evaluate!(point);
            events?.Publish(new RunEvent(RunEvents.Metrics, (long)point.Tokens, EvaluationSeries, scores) { Detail = $"{stage}:{step}" });
            return scores;
        }
        var trainer = new Trainer(model, optimizer, scheduler, options, store, configHash, events,
            Evaluate is null ? null : (spec, step) => EvaluateAt(spec.Name, step), Group) { TokenizerModel = TokenizerModel };
        bool lead = Group.Rank == 0;
        long every = EvaluateEveryTokens > 0 ? Math.Max(1, (long)Math.Round(EvaluateEveryTokens / stepTokens)) : 0;
        // The starting model, once: a resumed run has it in its metrics already.
        if (Evaluate is not null && EvaluateBeforeTraining && stages.Count > 0 && store.Latest(stages[0].Name) is null)
        {
            if (lead) EvaluateAt(stages[0].Name, 0);
            Group.Barrier();
        }
        var results = new List<StageResult>();
        foreach (var stage in stages)
        {
            var spec = (Schedule == ScheduleSpan.AllStages ? stage with { ScheduleOffset = offset, ScheduleTotal = total } : stage) with { EvaluateEvery = every };
            var result = trainer.Run(spec, cancellation);
            if (result.Interrupted) { results.Add(result); break; }
            // A finished stage skipped on resume still hands its final weights and optimizer moments to the next one.
            if (result.Resumed && double.IsNaN(result.FirstLoss))
            {
                HuggingFaceCheckpoint.Load(model, Path.Combine(result.Checkpoint, "model"));
                Trainer.LoadOptimizer(optimizer, result.Checkpoint);
            }
            if (lead && ExportFormat is not null)
            {
                var export = Path.Combine(runDirectory, "exports", stage.Name);
                if (!Directory.Exists(export))
                {
                    ModelExport.Write(model, ExportFormat, export, ExportDtype);
                    if (ExportFormat == "hf") TokenizerFiles.CopyInto(TokenizerModel, export);   // a Hugging Face directory carries its tokenizer
                }
            }
            if (lead && Evaluate is not null) result = result with { Evaluation = EvaluateAt(stage.Name, stage.Steps) };
            Group.Barrier();   // the other ranks wait asleep while rank 0 exports and evaluates
            results.Add(result);
            offset += stage.Steps;
        }
        return results;
    }
}
