namespace Ziya2.Events;

/// <summary>Names of the events the engines publish. The set is open; an engine documents what it adds.</summary>
public static class RunEvents
{
    /// <summary>A training stage starts. <see cref="RunEvent.Step"/>: the first step it will run (more than 0 on resume); metrics: <c>steps</c> (the stage's total), <c>tokens_per_step</c>.</summary>
    public const string StageStart = "stage_start";
    /// <summary>An optimizer step finished. Metrics: <c>loss</c>, <c>lr</c>, <c>grad_norm</c>, <c>tokens</c> (this step's).</summary>
    public const string StepEnd = "step_end";
    /// <summary>
    /// Numbers to record (every <c>log_every</c> steps of training, evaluations, anything a recipe logs with
    /// <c>Metrics(…)</c>); <see cref="RunEvent.Stage"/> names the series. The host appends them to <c>metrics.jsonl</c>.
    /// </summary>
    public const string Metrics = "metrics";
    /// <summary>A checkpoint was written; <see cref="RunEvent.Detail"/> is its directory.</summary>
    public const string Checkpoint = "checkpoint";
    /// <summary>A training stage ended (completed or interrupted). Metrics: <c>steps</c>, <c>first_loss</c>, <c>last_loss</c>, <c>interrupted</c> (0 or 1), <c>seconds</c>.</summary>
    public const string StageEnd = "stage_end";
    /// <summary>A data pipeline starts. <see cref="RunEvent.Stage"/>: the pipeline; metrics: <c>shards</c>, <c>done</c> (shards already complete).</summary>
    public const string PipelineStart = "pipeline_start";
    /// <summary>A data shard finished. <see cref="RunEvent.Step"/>: its index; metrics: <c>input</c>, <c>kept</c>, <c>rejected</c>.</summary>
    public const string ShardEnd = "shard_end";
    /// <summary>A data pipeline ended. Metrics: <c>input</c>, <c>kept</c>, <c>rejected</c>, <c>seconds</c>.</summary>
    public const string PipelineEnd = "pipeline_end";
}

/// <summary>An immutable snapshot of something an engine did, published on the run's <see cref="IEventBus"/>.</summary>
/// <param name="Name">Event name, one of <see cref="RunEvents"/> or an engine-specific one.</param>
/// <param name="Step">Step (training) or shard index (pipelines); -1 when not applicable.</param>
/// <param name="Stage">Stage, pipeline or metrics-series name, when applicable.</param>
/// <param name="Metrics">Numbers describing the moment (loss, learning rate, documents kept…).</param>
public sealed record RunEvent(string Name, long Step, string? Stage, IReadOnlyDictionary<string, double> Metrics)
{
    /// <summary>An event with no metrics.</summary>
    public RunEvent(string name, long step = -1, string? stage = null) : this(name, step, stage, new Dictionary<string, double>()) { }

    /// <summary>Free text that goes with the event (a checkpoint's path, a shard's name).</summary>
    public string? Detail { get; init; }

    /// <summary><see cref="Metrics"/>[<paramref name="key"/>], or NaN when absent.</summary>
    public double Get(string key) => Metrics.TryGetValue(key, out var v) ? v : double.NaN;
}
