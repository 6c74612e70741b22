using System.Text.Json.Serialization;

namespace Ziya2.Evaluation;

/// <summary>
/// A benchmark's score (<see cref="Metric"/>: accuracy or pass@1, in [0, 1]) over <see cref="Count"/> items, and the
/// mean loss (nats per token) of the reference answers given their prompts — the "test loss" of the scaling law (§7).
/// </summary>
public sealed record BenchmarkResult(
    [property: JsonPropertyName("benchmark")] string Benchmark,
    [property: JsonPropertyName("metric")] string Metric,
    [property: JsonPropertyName("score")] double Score,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("answer_loss")] double AnswerLoss,
    [property: JsonPropertyName("breakdown")] IReadOnlyDictionary<string, double> Breakdown)
{
    [JsonPropertyName("skipped")] public string? Skipped { get; init; }
}

/// <summary>The paper's Table 3 (5-shot, OpenCompass), shown beside our numbers when a 13B model is evaluated.</summary>
public static class PaperReference
{
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Table3 { get; } = new Dictionary<string, IReadOnlyDictionary<string, double>>
    {
        ["Ziya2-13B"] = new Dictionary<string, double> { ["mmlu"] = 61.36, ["cmmlu"] = 60.95, ["ceval"] = 58.84, ["gsm8k"] = 68.46, ["math"] = 10.98, ["humaneval"] = 28.87 },
        ["LLaMA2-13B"] = new Dictionary<string, double> { ["mmlu"] = 55.74, ["cmmlu"] = 37.90, ["ceval"] = 34.99, ["gsm8k"] = 28.81, ["math"] = 4.98, ["humaneval"] = 15.24 },
    };
}
