namespace Ziya2.Plugins.Schedulers;

/// <summary>Options of <see cref="ConstantWithWarmup"/> (min_lr is unused).</summary>
public sealed class ConstantOptions : WarmupOptions
{
    public ConstantOptions() => WarmupFraction = 0;
}

/// <summary>Linear warmup (none by default), then lr for the rest of the schedule.</summary>
public sealed class ConstantWithWarmup(ConstantOptions options) : WarmupSchedule(options, "constant")
{
    protected override double AfterWarmup(long step, long steps) => Options.Lr;
}
