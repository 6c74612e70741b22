using Ziya2.Configuration;
using Ziya2.Optimization;

namespace Ziya2.Plugins.Schedulers;

/// <summary>Options of <see cref="CosineWithWarmup"/>; defaults are the paper's (§4).</summary>
public sealed class CosineOptions : IValidatableOptions
{
    /// <summary>Peak learning rate reached at the end of warmup.</summary>
    public double Lr { get; set; } = 1e-4;
    /// <summary>Floor reached at the last step.</summary>
    public double MinLr { get; set; } = 1e-5;
    /// <summary>Warmup length as a fraction of the schedule (ignored when <see cref="WarmupSteps"/> is set).</summary>
    public double WarmupFraction { get; set; } = 0.01;
    /// <summary>Warmup length in steps; overrides the fraction.</summary>
    public long? WarmupSteps { get; set; }

    public IEnumerable<string> Validate()
    {
        if (Lr <= 0) yield return "lr must be > 0";
        if (MinLr < 0 || MinLr > Lr) yield return "min_lr must be within [0, lr]";
        if (WarmupFraction is < 0 or > 1) yield return "warmup_fraction must be within [0, 1]";
        if (WarmupSteps < 0) yield return "warmup_steps must be >= 0";
    }
}

/// <summary>
/// Linear warmup from lr/warmup to lr over the first steps, then half-cosine from lr to min_lr ending exactly at
/// the last step. A pure function of the step once configured, so resuming needs only the horizon.
/// </summary>
public sealed class CosineWithWarmup(CosineOptions options) : ILearningRateScheduler
{
    long _total = -1, _warmup, _last = -1;

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
        long decaySteps = _total - _warmup;
        if (decaySteps <= 1) return options.MinLr;
        double progress = Math.Min(1.0, (double)(step - _warmup) / (decaySteps - 1));
        return options.MinLr + 0.5 * (options.Lr - options.MinLr) * (1 + Math.Cos(Math.PI * progress));
    }

    public SchedulerState SaveState() => new("cosine", _total, _last);

    public void LoadState(SchedulerState state)
    {
        if (state.Kind != "cosine") throw new InvalidDataException($"scheduler state of kind '{state.Kind}' cannot be loaded into 'cosine'");
        Configure(state.TotalSteps);
        _last = state.Step;
    }
}
