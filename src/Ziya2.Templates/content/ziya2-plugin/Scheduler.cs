using Ziya2.Configuration;
using Ziya2.Optimization;

namespace MyZiya2Plugin;

/// <summary>Options, bound from the recipe's TOML (<c>[scheduler]</c> by default; keys in snake_case).</summary>
public sealed class ComponentSchedulerOptions : IValidatableOptions
{
    /// <summary>Peak learning rate.</summary>
    public double Lr { get; set; } = 1e-3;

    /// <summary>Learning rate at the last step.</summary>
    public double MinLr { get; set; } = 1e-4;

    /// <summary>Share of the steps spent warming up linearly from 0.</summary>
    public double WarmupFraction { get; set; } = 0.01;

    /// <inheritdoc/>
    public IEnumerable<string> Validate()
    {
        if (!(Lr > 0) || MinLr < 0 || MinLr > Lr) yield return "need lr > 0 and 0 <= min_lr <= lr";
        if (WarmupFraction is < 0 or >= 1) yield return "warmup_fraction must be in [0, 1)";
    }
}

/// <summary>
/// Linear warmup, then a linear decay to <c>min_lr</c>. A pure function of the step once its horizon is set, so the
/// state a resumed run needs is only the horizon and the last step.
/// </summary>
public sealed class ComponentScheduler(ComponentSchedulerOptions options) : ILearningRateScheduler
{
    const string Kind = "my-component";
    long _total = 1, _last = -1;

    /// <inheritdoc/>
    public void Configure(long totalSteps) => _total = Math.Max(1, totalSteps);

    /// <inheritdoc/>
    public double GetLearningRate(long step)
    {
        _last = step;
        long warmup = (long)Math.Ceiling(options.WarmupFraction * _total);
        if (step < warmup) return options.Lr * (step + 1) / warmup;
        double progress = _total - warmup <= 1 ? 1 : Math.Min(1.0, (double)(step - warmup) / (_total - warmup - 1));
        return options.Lr + (options.MinLr - options.Lr) * progress;
    }

    /// <inheritdoc/>
    public SchedulerState SaveState() => new(Kind, _total, _last);

    /// <inheritdoc/>
    public void LoadState(SchedulerState state)
    {
        if (state.Kind != Kind) throw new InvalidDataException($"scheduler state of '{state.Kind}', not '{Kind}'");
        (_total, _last) = (state.TotalSteps, state.Step);
    }
}
