namespace Ziya2.Plugins;

/// <summary>
/// A kind of pluggable component. Each kind has one service contract that its components implement.
/// The set is open: the tensor SDK (<c>Ziya2.Abstractions.Tensors</c>) adds models and optimizers, and a future SDK
/// version may add more (evaluators, sinks) without breaking plugins.
/// </summary>
/// <param name="Name">Short lower-case name used in messages and listings, e.g. <c>model</c>.</param>
/// <param name="ServiceType">The contract every component of this kind implements.</param>
public sealed record ComponentKind(string Name, Type ServiceType)
{
    /// <summary>Document filters: keep, drop with a reason, or rewrite (<see cref="Data.IDataFilter"/>).</summary>
    public static ComponentKind DataFilter { get; } = new("filter", typeof(Data.IDataFilter));

    /// <summary>Learning-rate schedulers (<see cref="Optimization.ILearningRateScheduler"/>).</summary>
    public static ComponentKind Scheduler { get; } = new("scheduler", typeof(Optimization.ILearningRateScheduler));

    /// <summary>Tokenizers (<see cref="Tokenization.ITokenizer"/>).</summary>
    public static ComponentKind Tokenizer { get; } = new("tokenizer", typeof(Tokenization.ITokenizer));

    /// <summary>The kinds this assembly defines (the tensor SDK lists its own).</summary>
    public static IReadOnlyList<ComponentKind> All { get; } = [DataFilter, Scheduler, Tokenizer];

    /// <inheritdoc/>
    public override string ToString() => Name;
}
