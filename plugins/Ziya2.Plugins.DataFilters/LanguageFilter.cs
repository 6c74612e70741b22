using System.Collections.Concurrent;
using Lingua;
using Ziya2.Configuration;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters;

/// <summary>Options of <see cref="LanguageFilter"/>.</summary>
public sealed class LanguageFilterOptions : IValidatableOptions
{
    /// <summary>ISO 639-1 codes to keep (Ziya2: Chinese and English).</summary>
    public List<string> Keep { get; set; } = ["zh", "en"];
    /// <summary>Languages the detector chooses among; few languages keep it fast and accurate (notes/libraries.md).</summary>
    public List<string> Candidates { get; set; } = ["zh", "en", "ja", "ko", "fr", "de", "es", "ru"];
    /// <summary>Minimum confidence of the detected language.</summary>
    public double MinConfidence { get; set; } = 0.5;
    /// <summary>Characters from the start of the document used for detection.</summary>
    public int MaxChars { get; set; } = 500;
    /// <summary>
    /// Decide plain English by its function words before Lingua (confidence 1, as Lingua's script rules report): the
    /// language step ran ~3× faster on bench/factory.sh's corpus, its decisions the same on 99.99 % of the pages. Off:
    /// Lingua decides every non-Han text. Used only when the candidates are languages the rule tells English from.
    /// </summary>
    public bool EnglishRule { get; set; } = true;

    public IEnumerable<string> Validate()
    {
        foreach (var code in Keep.Concat(Candidates).Distinct())
            if (LanguageFilter.FromIso(code) is null) yield return $"unknown language code '{code}'";
        if (Keep.Except(Candidates).Any()) yield return "every kept language must also be a candidate";
        if (MinConfidence is < 0 or > 1) yield return "min_confidence must be within [0, 1]";
        if (MaxChars < 1) yield return "max_chars must be >= 1";
    }
}

/// <summary>
/// Language identification with Lingua (paper §2.1 DP: keep Chinese and English). Records <c>language</c> and the
/// attribute <c>language_confidence</c>; drops other languages (<c>language_not_kept</c>) and unsure detections
/// (<c>language_uncertain</c>). Lingua's rules make Han-only text Chinese and text with kana Japanese, both with
/// confidence 1 (notes/libraries.md); <see cref="LanguageRules"/> applies the Han rule and an English function-word rule
/// before Lingua scores anything.
/// </summary>
public sealed class LanguageFilter : IDataFilter
{
    static readonly ConcurrentDictionary<string, LanguageDetector> Detectors = new();
    readonly LanguageDetector _detector;
    readonly HashSet<string> _keep;
    readonly LanguageFilterOptions _o;
    readonly bool _chineseCandidate, _englishRule;

    public LanguageFilter(LanguageFilterOptions o)
    {
        _o = o;
        _keep = o.Keep.Select(k => k.ToLowerInvariant()).ToHashSet();
        _chineseCandidate = o.Candidates.Any(c => string.Equals(c, "zh", StringComparison.OrdinalIgnoreCase));
        // The function-word rule knows English against French, German, Spanish, Italian, Portuguese and Dutch only.
        string[] ruleKnows = ["en", "zh", "ja", "ko", "ru", "fr", "de", "es", "it", "pt", "nl"];
        _englishRule = o.EnglishRule && o.Candidates.Any(c => string.Equals(c, "en", StringComparison.OrdinalIgnoreCase)) &&
                       o.Candidates.All(c => ruleKnows.Contains(c.ToLowerInvariant()));
        var candidates = o.Candidates.Select(c => FromIso(c) ?? throw new ArgumentException($"unknown language code '{c}'")).Distinct().OrderBy(l => l).ToArray();
        // Models live beside the plugin, not beside the host executable, so point Lingua at them explicitly.
        var models = Path.Combine(Path.GetDirectoryName(typeof(LanguageFilter).Assembly.Location)!, "Lingua", "LanguageModels");
        _detector = Detectors.GetOrAdd(string.Join(",", candidates), _ =>
            LanguageDetectorBuilder.FromLanguages(candidates).WithLanguageModelsDirectory(models).Build());
    }

    internal static Language? FromIso(string code) =>
        Enum.GetValues<Language>().Where(l => l != Language.Unknown)
            .Cast<Language?>().FirstOrDefault(l => string.Equals(LanguageInfo.IsoCode6391(l!.Value).ToString(), code, StringComparison.OrdinalIgnoreCase));

    public FilterDecision Apply(Document d)
    {
        var sample = d.Text.Length <= _o.MaxChars ? d.Text : d.Text[.._o.MaxChars];
        Language language; double confidence;
        if (_chineseCandidate && LanguageRules.IsHanWithoutKanaOrHangul(sample)) (language, confidence) = (Language.Chinese, 1.0);
        else if (_englishRule && LanguageRules.IsPlainEnglish(sample)) (language, confidence) = (Language.English, 1.0);
        else
        {
            var confidences = _detector.ComputeLanguageConfidenceValues(sample);
            (language, confidence) = confidences.Count == 0 ? (Language.Unknown, 0.0) : confidences.MaxBy(kv => kv.Value) is var top ? (top.Key, top.Value) : default;
        }
        if (language == Language.Unknown) return FilterDecision.Drop("language_uncertain");
        var code = LanguageInfo.IsoCode6391(language).ToString().ToLowerInvariant();
        var annotated = (d with { Language = code }).WithAttribute("language_confidence", Math.Round(confidence, 4));
        if (!_keep.Contains(code)) return FilterDecision.Drop("language_not_kept");
        if (confidence < _o.MinConfidence) return FilterDecision.Drop("language_uncertain");
        return FilterDecision.Rewrite(annotated);
    }
}
