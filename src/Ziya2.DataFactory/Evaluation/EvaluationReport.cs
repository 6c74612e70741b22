using System.Text.Json.Serialization;

namespace Ziya2.DataFactory.Evaluation;

/// <summary>Five-number-style summary of a measure over the sampled documents.</summary>
public sealed record Summary(
    [property: JsonPropertyName("count")] long Count, [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("p10")] double P10, [property: JsonPropertyName("p50")] double P50, [property: JsonPropertyName("p90")] double P90)
{
    public static Summary Of(List<double> values)
    {
        if (values.Count == 0) return new Summary(0, 0, 0, 0, 0);
        var sorted = values.Order().ToArray();
        double Q(double q) => sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * sorted.Length))];
        return new Summary(sorted.Length, Math.Round(sorted.Average(), 4), Math.Round(Q(0.1), 4), Math.Round(Q(0.5), 4), Math.Round(Q(0.9), 4));
    }
}

/// <summary>
/// Table 1's automatic metrics over a seeded sample. Rates are the share of sampled documents with at least one hit
/// (Level 1 in the paper: compliant at ≤ 0.1 %); <c>null</c> when not measured (no word list given).
/// </summary>
public sealed class EvaluationReport
{
    [JsonPropertyName("documents")] public long Documents { get; set; }
    [JsonPropertyName("sampled")] public long Sampled { get; set; }
    [JsonPropertyName("sample_rate")] public double SampleRate { get; set; }
    [JsonPropertyName("seed")] public long Seed { get; set; }
    [JsonPropertyName("malformed")] public long Malformed { get; set; }
    /// <summary>Level-1 rates: privacy, toxic, advertising, html_function.</summary>
    [JsonPropertyName("rates")] public Dictionary<string, double?> Rates { get; set; } = [];
    [JsonPropertyName("hits_per_1k_chars")] public Dictionary<string, double?> HitsPerThousandChars { get; set; } = [];
    /// <summary>Perplexity per language, from the <c>perplexity</c> attribute the scoring step wrote (absent: not scored).</summary>
    [JsonPropertyName("perplexity")] public Dictionary<string, Summary> Perplexity { get; set; } = [];
    [JsonPropertyName("informativeness")] public Summary Informativeness { get; set; } = Summary.Of([]);
    [JsonPropertyName("readability_punctuated_lines")] public Summary PunctuatedLines { get; set; } = Summary.Of([]);
    [JsonPropertyName("readability_sentence_chars")] public Summary SentenceChars { get; set; } = Summary.Of([]);
    [JsonPropertyName("languages")] public SortedDictionary<string, long> Languages { get; set; } = [];
    [JsonPropertyName("length_chars")] public Summary Length { get; set; } = Summary.Of([]);
    [JsonPropertyName("length_histogram")] public List<KeyValuePair<string, long>> LengthHistogram { get; set; } = [];
    [JsonPropertyName("topics")] public Dictionary<string, long> Topics { get; set; } = [];
    [JsonPropertyName("quality_buckets")] public SortedDictionary<string, long> QualityBuckets { get; set; } = [];
}
