using System.Text.RegularExpressions;
using Ziya2.Data;

namespace Ziya2.DataFactory.Evaluation;

/// <summary>
/// A stage's data attributes for the data-centric scaling law (paper §7.1), each the fraction of documents *without*
/// the problem (Table 4 is high-is-good; the paper does not give its normalisation, this is our reading).
/// </summary>
/// <param name="Coherence">Share without a coherence problem (ads, navigation, unrelated pieces, many URLs).</param>
/// <param name="Readability">Share without a readability problem (grammar or punctuation errors, truncated sentences, garbled text).</param>
/// <param name="Documents">Documents judged or measured.</param>
/// <param name="Source">"human" (a judged sheet) or "proxy" (the automatic rules below).</param>
public sealed record DataAttributes(double Coherence, double Readability, int Documents, string Source)
{
    /// <summary>From a judged human-evaluation sheet (Figure 8's criteria): 1 − the share flagged.</summary>
    public static DataAttributes FromJudgements(IReadOnlyList<Judgement> judged)
    {
        if (judged.Count == 0) throw new ArgumentException("no judged documents");
        return new(1 - judged.Average(j => j.Coherence), 1 - judged.Average(j => j.Readability), judged.Count, "human");
    }

    /// <summary>
    /// An automatic proxy when no sheet is judged, mirroring Figure 8's criteria with the evaluator's measures. A document
    /// has a <b>coherence</b> problem when it hits an advertising phrase, carries HTML/web-page function words, or holds three
    /// or more URLs; a <b>readability</b> problem when fewer than half of its non-empty lines end like a finished sentence
    /// (terminal punctuation, a closing bracket or quote, or a number — maths answers end in one), its mean sentence is
    /// under 8 or over 400 characters, or it holds U+FFFD / typical mojibake. A proxy ranks data; it does not replace judges.
    /// </summary>
    public static DataAttributes Proxy(IEnumerable<Document> documents, PhraseMatcher advertising)
    {
        int total = 0, incoherent = 0, unreadable = 0;
        foreach (var d in documents)
        {
            total++;
            var lower = d.Text.ToLowerInvariant();
            if (advertising.HitsInLowered(lower, stopAt: 1) > 0 || TextMeasures.HtmlFunctionHits(d.Text) > 0 || Url.Count(d.Text) >= 3) incoherent++;
            var (_, sentence) = TextMeasures.Readability(d.Text);
            if (FinishedLines(d.Text) < 0.5 || sentence is < 8 or > 400 || d.Text.Contains('\uFFFD') || Mojibake.IsMatch(d.Text)) unreadable++;
        }
        if (total == 0) throw new ArgumentException("no documents to measure");
        return new(1 - (double)incoherent / total, 1 - (double)unreadable / total, total, "proxy");
    }

    static double FinishedLines(string text)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        return lines.Count == 0 ? 0 : (double)lines.Count(l => ".!?。！？…\"'”’)）]】»".Contains(l[^1]) || char.IsDigit(l[^1])) / lines.Count;
    }

    static readonly Regex Url = new(@"https?://\S+|www\.\S+", RegexOptions.Compiled);
    static readonly Regex Mojibake = new("Ã[\u0080-\u00BF]|â€|锟斤拷|烫烫烫", RegexOptions.Compiled);
}
