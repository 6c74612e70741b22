namespace Ziya2.Events;

/// <summary>Names of the events engines publish. The set is open; engines document what they add.</summary>
public static class RunEvents
{
    /// <summary>Training starts (before the first stage).</summary>
    public const string FitStart = "fit_start";
    /// <summary>A training stage starts.</summary>
    public const string StageStart = "stage_start";
    /// <summary>A batch is about to be processed.</summary>
    public const string BatchStart = "batch_start";
    /// <summary>Gradients are computed, before clipping and the optimizer step.</summary>
    public const string AfterBackward = "after_backward";
    /// <summary>An optimizer step finished; metrics carry loss, learning rate, gradient norm.</summary>
    public const string BatchEnd = "batch_end";
    /// <summary>An evaluation finished; metrics carry its results.</summary>
    public const string Evaluate = "evaluate";
    /// <summary>A checkpoint was written.</summary>
    public const string Checkpoint = "checkpoint";
    /// <summary>A training stage ended.</summary>
    public const string StageEnd = "stage_end";
    /// <summary>Training ended.</summary>
    public const string FitEnd = "fit_end";
    /// <summary>A data pipeline starts.</summary>
    public const string PipelineStart = "pipeline_start";
    /// <summary>A data shard finished.</summary>
    public const string ShardEnd = "shard_end";
    /// <summary>A data pipeline ended.</summary>
    public const string PipelineEnd = "pipeline_end";
}

/// <summary>An immutable snapshot published to callbacks.</summary>
/// <param name="Name">Event name, one of <see cref="RunEvents"/> or an engine-specific one.</param>
/// <param name="Step">Global step (training) or shard index (pipelines); -1 when not applicable.</param>
/// <param name="Stage">Stage or pipeline name, when applicable.</param>
/// <param name="Metrics">Numbers describing the moment (loss, lr, tokens/s, documents kept…).</param>
public sealed record RunEvent(string Name, long Step, string? Stage, IReadOnlyDictionary<string, double> Metrics)
{
    /// <summary>An event with no metrics.</summary>
    public RunEvent(string name, long step = -1, string? stage = null) : this(name, step, stage, new Dictionary<string, double>()) { }
}

/// <summary>
/// What state-changing handlers may ask of the engine that published an event. The engine reads it back
/// after dispatch; observers never see it.
/// </summary>
public sealed class RunControl
{
    /// <summary>Set by <see cref="RequestStop"/>.</summary>
    public bool StopRequested { get; private set; }

    /// <summary>Why a stop was requested.</summary>
    public string? StopReason { get; private set; }

    /// <summary>Ask the engine to write a checkpoint after this event.</summary>
    public bool CheckpointRequested { get; set; }

    /// <summary>Multiplier applied to the scheduled learning rate for the coming step (1 = unchanged).</summary>
    public double LearningRateScale { get; set; } = 1.0;

    /// <summary>Ask the engine to stop cleanly (after checkpointing) as soon as possible.</summary>
    public void RequestStop(string reason) { StopRequested = true; StopReason = reason; }
}
