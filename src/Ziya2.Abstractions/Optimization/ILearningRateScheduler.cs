namespace Ziya2.Optimization;

/// <summary>
/// Maps an optimizer step to a learning rate. Schedules are pure functions of the step once their horizon is
/// set, so resuming needs only <see cref="SchedulerState"/>.
/// </summary>
public interface ILearningRateScheduler
{
    /// <summary>Sets the number of optimizer steps the schedule spans (a stage, or all stages).</summary>
    void Configure(long totalSteps);

    /// <summary>The learning rate for 0-based <paramref name="step"/>.</summary>
    double GetLearningRate(long step);

    /// <summary>Captures what is needed to continue the schedule identically.</summary>
    SchedulerState SaveState();

    /// <summary>Restores a state from <see cref="SaveState"/>; throws when it belongs to another kind of schedule.</summary>
    void LoadState(SchedulerState state);
}

/// <summary>Resumable scheduler state.</summary>
/// <param name="Kind">Scheduler kind that wrote it, checked on load.</param>
/// <param name="TotalSteps">Horizon the schedule was configured with.</param>
/// <param name="Step">Last step a learning rate was computed for (-1 before the first).</param>
public sealed record SchedulerState(string Kind, long TotalSteps, long Step);
