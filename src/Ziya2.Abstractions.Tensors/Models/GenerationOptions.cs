namespace Ziya2.Models;

/// <summary>How <see cref="TextGeneration.Generate"/> picks tokens.</summary>
public sealed record GenerationOptions
{
    /// <summary>Upper bound on generated tokens (the prompt not counted).</summary>
    public int MaxNewTokens { get; init; } = 64;

    /// <summary>0 selects greedy decoding; otherwise logits are divided by it before sampling.</summary>
    public double Temperature { get; init; }

    /// <summary>Nucleus sampling: sample from the smallest set of tokens whose probability reaches this (1 = off).</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Generation stops after emitting any of these ids (the stop token is included in the output).</summary>
    public IReadOnlyList<long> StopTokens { get; init; } = [];

    /// <summary>
    /// Called after each new token with all tokens generated so far; returning true stops generation (stop strings
    /// such as <c>"\nQuestion:"</c> in few-shot evaluation, checked on decoded text by the caller).
    /// </summary>
    public Func<IReadOnlyList<long>, bool>? StopWhen { get; init; }
    /// <summary>Seed of the sampler, for reproducible sampling.</summary>
    public long Seed { get; init; } = 1234;
}
