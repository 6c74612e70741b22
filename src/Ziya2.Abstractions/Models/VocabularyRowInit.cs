namespace Ziya2.Models;

/// <summary>How one new embedding row is initialised: the weighted mean of existing rows.</summary>
/// <param name="NewId">The new token id.</param>
/// <param name="SourceIds">Existing ids whose rows are averaged (the base tokenizer's split of the new piece).</param>
/// <param name="Weights">One weight per source id (normalised); null = uniform.</param>
/// <param name="OutputWeights">Weights for the LM-head row when they should differ from the input embedding's; null = <paramref name="Weights"/>.</param>
public sealed record VocabularyRowInit(int NewId, IReadOnlyList<int> SourceIds, IReadOnlyList<double>? Weights = null, IReadOnlyList<double>? OutputWeights = null);
