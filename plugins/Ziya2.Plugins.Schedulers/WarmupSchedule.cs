using Ziya2.Configuration;
using Ziya2.Optimization;

namespace Ziya2.Plugins.Schedulers;

/// <summary>Options every built-in schedule shares: peak, floor and linear warmup.</summary>
public class WarmupOptions : IValidatableOptions
{
    /// <summary>Peak learning rate reached at the end of warmup.</summary>
    public double Lr { get; set; } = 1e-4;
    /// <summary>Floor reached at the last step (decaying schedules).</summary>
    public double MinLr { get; set; } = 1e-5;
    /// <summary>Warmup length as a fraction of the schedule (ignored when <see cref="WarmupSteps"/> is set).</summary>
    public double WarmupFraction { get; set; } = 0.01;
    /// <summary>Warmup length in steps; overrides the fraction.</summary>
    public long? WarmupSteps { get; set; }

    public virtual IEnumerable<string> Validate()
    {
        if (Lr <= 0) yield return "lr must be > 0";
        if (MinLr < 0 || MinLr > Lr) yield return "min_lr must be within [0, lr]";
        if (WarmupFraction is < 0 or > 1) yield return "warmup_fraction must be within [0, 1]";
        if (WarmupSteps < 0) yield return "warmup_steps must be >= 0";
    }
}

/// <summary>
/// Linear warmup from lr/warmup to lr over the first steps, then a shape of the subclass's choosing over the rest. A
/// pure function of the step once configured, so resuming needs only the horizon (<see cref="SchedulerState"/>).
/// </summary>
public abstract class WarmupSchedule(WarmupOptions options, string kind) : ILearningRateScheduler
{
    long _total = -1, _warmup, _last = -1;

    protected WarmupOptions Options => options;

    public void Configure(long totalSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        _total = totalSteps;
        _warmup = Math.Min(totalSteps, options.WarmupSteps ?? (long)Math.Ceiling(options.WarmupFraction * totalSteps));
    }

    public double GetLearningRate(long step)
    {
        if (_total < 0) throw new InvalidOperationException("call Configure(totalSteps) before asking for a learning rate");
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        _last = step;
        if (step < _warmup) return options.Lr * (step + 1) / _warmup;
        return AfterWarmup(step - _warmup, _total - _warmup);
    }

    /// <summary>The rate at <paramref name="step"/> steps after warmup, of <paramref name="steps"/> in all.</summary>
    protected abstract double AfterWarmup(long step, long steps);

    /// <summary>0 at the first step after warmup, 1 at the last (and after it).</summary>
    protected static double Progress(long step, long steps) => steps <= 1 ? 1 : Math.Min(1.0, (double)step / (steps - 1));

    public SchedulerState SaveState() => new(kind, _total, _last);

    public void LoadState(SchedulerState state)
    {
        if (state.Kind != kind) throw new InvalidDataException($"scheduler state of kind '{state.Kind}' cannot be loaded into '{kind}'");
        Configure(state.TotalSteps);
        _last = state.Step;
    }
}
