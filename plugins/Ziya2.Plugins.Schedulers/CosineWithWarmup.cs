namespace Ziya2.Plugins.Schedulers;

/// <summary>Options of <see cref="CosineWithWarmup"/>; defaults are the paper's (§4: 1 % warmup, floor 1e-5).</summary>
public sealed class CosineOptions : WarmupOptions;

/// <summary>Linear warmup, then half-cosine from lr to min_lr ending exactly at the last step (Ziya2's schedule).</summary>
public sealed class CosineWithWarmup(CosineOptions options) : WarmupSchedule(options, "cosine")
{
    protected override double AfterWarmup(long step, long steps) =>
        steps <= 1 ? Options.MinLr : Options.MinLr + 0.5 * (Options.Lr - Options.MinLr) * (1 + Math.Cos(Math.PI * Progress(step, steps)));
}
