using Ziya2.Configuration;
using Ziya2.NGram;

namespace Ziya2.Plugins.Scoring;

/// <summary>Options of <see cref="PerplexityBucketFilter"/>, at <c>[filters.perplexity]</c>.</summary>
public sealed class PerplexityOptions : IValidatableOptions
{
    /// <summary>ARPA model per language code (<c>zh = "zh.arpa.gz"</c>); build one with <c>ziya2 lm train</c> or KenLM's <c>lmplz</c>.</summary>
    public Dictionary<string, string> Models { get; set; } = [];
    /// <summary>Tokenisation per language; default: characters for zh, whitespace for every other language.</summary>
    public Dictionary<string, LmTokenization> Tokenization { get; set; } = [];
    /// <summary>SentencePiece model (<c>tokenizer.model</c>) per language whose tokenisation is <c>sentencepiece</c>.</summary>
    public Dictionary<string, string> SentencepieceModels { get; set; } = [];
    /// <summary>Share of each language's documents, lowest perplexity first, that is "high" (paper: top 30 %).</summary>
    public double High { get; set; } = 0.3;
    /// <summary>Cumulative share that is "high" or "medium" (paper: 30–60 % is medium); the rest is "low".</summary>
    public double Medium { get; set; } = 0.6;
    /// <summary>Drop the low bucket (paper: yes); false keeps it, labelled.</summary>
    public bool DropLow { get; set; } = true;
    /// <summary>Keep documents whose language has no model (labelled "unscored") instead of dropping them.</summary>
    public bool KeepUnscored { get; set; } = true;

    public IEnumerable<string> Validate()
    {
        if (Models.Count == 0) yield return "models must name at least one ARPA file (zh = \"…\", en = \"…\")";
        foreach (var (language, mode) in Tokenization)
            if (mode == LmTokenization.SentencePiece && !SentencepieceModels.ContainsKey(language))
                yield return $"tokenization.{language} = \"sentencepiece\" needs sentencepiece_models.{language}";
        if (High is <= 0 or > 1 || Medium < High || Medium > 1) yield return "need 0 < high <= medium <= 1";
    }

    internal LmTokenization TokenizationFor(string language) =>
        Tokenization.TryGetValue(language, out var t) ? t : language == "zh" ? LmTokenization.Characters : LmTokenization.Whitespace;
}
