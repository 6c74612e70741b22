namespace Ziya2.Plugins.Schedulers;

/// <summary>Options of <see cref="LinearWithWarmup"/>.</summary>
public sealed class LinearOptions : WarmupOptions;

/// <summary>Linear warmup, then a straight line from lr to min_lr ending exactly at the last step.</summary>
public sealed class LinearWithWarmup(LinearOptions options) : WarmupSchedule(options, "linear")
{
    protected override double AfterWarmup(long step, long steps) =>
        steps <= 1 ? Options.MinLr : Options.Lr + (Options.MinLr - Options.Lr) * Progress(step, steps);
}
