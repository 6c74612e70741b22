namespace Ziya2.Plugins.Schedulers;

/// <summary>Shape of the final decay of <see cref="WarmupStableDecay"/>.</summary>
public enum DecayShape
{
    /// <summary>Straight line to min_lr.</summary>
    Linear,
    /// <summary>Half cosine to min_lr.</summary>
    Cosine,
}

/// <summary>Options of <see cref="WarmupStableDecay"/>.</summary>
public sealed class WsdOptions : WarmupOptions
{
    /// <summary>Share of the schedule (after warmup) spent decaying at the end.</summary>
    public double DecayFraction { get; set; } = 0.1;
    public DecayShape DecayShape { get; set; } = DecayShape.Linear;

    public override IEnumerable<string> Validate()
    {
        foreach (var m in base.Validate()) yield return m;
        if (DecayFraction is < 0 or > 1) yield return "decay_fraction must be within [0, 1]";
    }
}

/// <summary>
/// Warmup–stable–decay (MiniCPM, DeepSeek): linear warmup, lr held constant, then a short decay to min_lr over the
/// last <c>decay_fraction</c> of the steps. Useful for continual pre-training, where a stable phase can be extended
/// and a decay branched off at any checkpoint.
/// </summary>
public sealed class WarmupStableDecay(WsdOptions options) : WarmupSchedule(options, "wsd")
{
    protected override double AfterWarmup(long step, long steps)
    {
        long decay = (long)Math.Ceiling(options.DecayFraction * steps), stable = steps - decay;
        if (step < stable) return Options.Lr;
        double p = Progress(step - stable, decay);
        return options.DecayShape == DecayShape.Linear
            ? Options.Lr + (Options.MinLr - Options.Lr) * p
            : Options.MinLr + 0.5 * (Options.Lr - Options.MinLr) * (1 + Math.Cos(Math.PI * p));
    }
}
