using Ziya2.Events;
using Ziya2.Models;
using Ziya2.Optimization;
using Ziya2.Models.Checkpoints;

namespace Ziya2.Training;

/// <summary>Whether one learning-rate schedule spans every stage or restarts in each (the paper: one cosine over the whole run is our default reading; both are offered).</summary>
public enum ScheduleSpan
{
    /// <summary>Each stage warms up and decays on its own.</summary>
    PerStage,
    /// <summary>One schedule over the sum of all stages' steps.</summary>
    AllStages,
}

/// <summary>
/// Runs stages in order (paper §4): each starts from the previous stage's final weights (the live model), resumes from
/// its own checkpoints, and is exported (Hugging Face format by default) when it completes. Stops after a stage that was
/// interrupted, so a re-run continues where it stopped. After each completed stage (also one found complete on resume)
/// the <see cref="Evaluate"/> hook runs on that stage's final weights and its numbers go into the stage's result.
/// Progress and metrics go onto <paramref name="events"/> (see <see cref="Trainer"/>).
/// </summary>
public sealed class StageRunner(ILanguageModel model, IOptimizer optimizer, ILearningRateScheduler scheduler, TrainerOptions options,
    string runDirectory, string configHash, IEventBus? events = null)
{
    /// <summary>Export format at the end of each stage (null: none) and the dtype of its tensors.</summary>
    public string? ExportFormat { get; init; } = "hf";
    public string ExportDtype { get; init; } = "bf16";
    public ScheduleSpan Schedule { get; init; } = ScheduleSpan.PerStage;
    /// <summary>Evaluation after each completed stage (held-out loss per source, benchmarks …); null: none.</summary>
    public Func<StageResult, IReadOnlyDictionary<string, double>>? Evaluate { get; init; }

    public IReadOnlyList<StageResult> Run(IReadOnlyList<StageSpec> stages, CancellationToken cancellation = default)
    {
        var store = new CheckpointStore(Path.Combine(runDirectory, "checkpoints"), options.KeepLast);
        var trainer = new Trainer(model, optimizer, scheduler, options, store, configHash, events);
        long total = stages.Sum(s => s.Steps), offset = 0;
        var results = new List<StageResult>();
        foreach (var stage in stages)
        {
            var spec = Schedule == ScheduleSpan.AllStages ? stage with { ScheduleOffset = offset, ScheduleTotal = total } : stage;
            var result = trainer.Run(spec, cancellation);
            if (result.Interrupted) { results.Add(result); break; }
            // A finished stage skipped on resume still hands its final weights and optimizer moments to the next one.
            if (result.Resumed && double.IsNaN(result.FirstLoss))
            {
                HuggingFaceCheckpoint.Load(model, Path.Combine(result.Checkpoint, "model"));
                optimizer.LoadState(Path.Combine(result.Checkpoint, "optimizer.bin"));
            }
            if (ExportFormat is not null)
            {
                var export = Path.Combine(runDirectory, "exports", stage.Name);
                if (!Directory.Exists(export)) ModelExport.Write(model, ExportFormat, export, ExportDtype);
            }
            if (Evaluate is not null) result = result with { Evaluation = Evaluate(result) };
            results.Add(result);
            offset += stage.Steps;
        }
        return results;
    }
}
