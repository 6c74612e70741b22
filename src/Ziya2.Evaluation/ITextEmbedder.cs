namespace Ziya2.Evaluation;

/// <summary>
/// Turns texts into fixed-size vectors, for data attributes such as Ziya2's similarity between training data and a
/// benchmark (§7.1; the paper used OpenAI's text-embedding-ada-002). Any embedder fits (an API client,
/// a sentence encoder); the built-in default mean-pools a language model's hidden states.
/// </summary>
public interface ITextEmbedder
{
    /// <summary>Vector length.</summary>
    int Dimension { get; }

    /// <summary>One vector of <see cref="Dimension"/> floats per text, in order.</summary>
    IReadOnlyList<float[]> Embed(IReadOnlyList<string> texts);
}
