namespace Ziya2.Plugins;

/// <summary>
/// A kind of pluggable component. Each kind has one service contract that its components implement.
/// The set is open: a future SDK version may add kinds (evaluators, sinks) without breaking plugins.
/// </summary>
/// <param name="Name">Short lower-case name used in messages and listings, e.g. <c>model</c>.</param>
/// <param name="ServiceType">The contract every component of this kind implements.</param>
public sealed record ComponentKind(string Name, Type ServiceType)
{
    /// <summary>Document filters: keep, drop with a reason, or rewrite (<see cref="Data.IDataFilter"/>).</summary>
    public static ComponentKind DataFilter { get; } = new("filter", typeof(Data.IDataFilter));

    /// <summary>Language models (<see cref="Models.ILanguageModel"/>).</summary>
    public static ComponentKind Model { get; } = new("model", typeof(Models.ILanguageModel));

    /// <summary>Optimizer factories (<see cref="Optimization.IOptimizerFactory"/>).</summary>
    public static ComponentKind Optimizer { get; } = new("optimizer", typeof(Optimization.IOptimizerFactory));

    /// <summary>Learning-rate schedulers (<see cref="Optimization.ILearningRateScheduler"/>).</summary>
    public static ComponentKind Scheduler { get; } = new("scheduler", typeof(Optimization.ILearningRateScheduler));

    /// <summary>Tokenizers (<see cref="Tokenization.ITokenizer"/>).</summary>
    public static ComponentKind Tokenizer { get; } = new("tokenizer", typeof(Tokenization.ITokenizer));

    /// <summary>Training and pipeline callbacks (<see cref="Events.IRunCallback"/>).</summary>
    public static ComponentKind Callback { get; } = new("callback", typeof(Events.IRunCallback));

    /// <summary>Text embedders for data attributes such as similarity (<see cref="Models.ITextEmbedder"/>).</summary>
    public static ComponentKind Embedder { get; } = new("embedder", typeof(Models.ITextEmbedder));
    /// <summary>The kinds this SDK version defines.</summary>
    public static IReadOnlyList<ComponentKind> All { get; } = [DataFilter, Model, Optimizer, Scheduler, Tokenizer, Callback, Embedder];

    /// <summary>Finds a kind by <see cref="Name"/>.</summary>
    public static ComponentKind? Find(string name) => All.FirstOrDefault(k => k.Name == name);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
