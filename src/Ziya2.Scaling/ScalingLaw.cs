using System.Text.Json.Serialization;

namespace Ziya2.Scaling;

/// <summary>
/// Ziya2's data-centric scaling law (paper Eqs. 3–4): <c>L(D) = D^(−α) + E</c> with effective data
/// <c>D = (A·CH + B·RA + C·SIM)·V + F</c>, where V is tokens trained on and F the data already in the base model.
/// </summary>
public sealed record ScalingLaw(
    [property: JsonPropertyName("alpha")] double Alpha,
    [property: JsonPropertyName("E")] double E,
    [property: JsonPropertyName("A")] double A,
    [property: JsonPropertyName("B")] double B,
    [property: JsonPropertyName("C")] double C,
    [property: JsonPropertyName("F")] double F)
{
    /// <summary>The paper's fitted law (Eqs. 6–7).</summary>
    public static ScalingLaw Paper { get; } = new(0.06, 0.31, 1.66, 1.98, 0.70, 1.24e10);

    public double EffectiveData(double tokens, double coherence, double readability, double similarity) =>
        (A * coherence + B * readability + C * similarity) * tokens + F;

    public double Predict(double tokens, double coherence, double readability, double similarity) =>
        Math.Pow(EffectiveData(tokens, coherence, readability, similarity), -Alpha) + E;

    public double Predict(ScalingSample s) => Predict(s.Tokens, s.Coherence, s.Readability, s.Similarity);

    /// <summary>The six parameters in the order the fit uses: α, E, A, B, C, F.</summary>
    public double[] ToArray() => [Alpha, E, A, B, C, F];
    public static ScalingLaw FromArray(IReadOnlyList<double> p) => new(p[0], p[1], p[2], p[3], p[4], p[5]);
    public static readonly string[] Names = ["alpha", "E", "A", "B", "C", "F"];
}
