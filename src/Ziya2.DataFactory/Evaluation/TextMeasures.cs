using System.Text;
using System.Text.RegularExpressions;

namespace Ziya2.DataFactory.Evaluation;

/// <summary>
/// The per-document measures behind Table 1's automatic metrics. Each is simple and stated here, because the paper
/// does not publish its regexes, word lists, informativeness model or readability formula.
/// </summary>
public static partial class TextMeasures
{
    /// <summary>E-mail addresses, mainland mobile numbers, international/landline numbers, 18-digit resident ID numbers.</summary>
    public static int PrivacyHits(string text) => Privacy().Count(text);

    /// <summary>Web-page function words: HTML tags, entities, <c>javascript:</c>, event handlers, CSS/JS remnants.</summary>
    public static int HtmlFunctionHits(string text) => Html().Count(text);

    /// <summary>
    /// Informativeness: zstd-compressed size / UTF-8 size (level 3). Repetitive or templated text compresses well and
    /// scores low; varied prose scores high. A cheap, model-free stand-in for "information content".
    /// </summary>
    public static double Informativeness(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length == 0) return 0;
        using var c = new ZstdSharp.Compressor(3);
        return Math.Min(1.0, (double)c.Wrap(bytes).Length / bytes.Length);
    }

    /// <summary>
    /// Readability from counts: the share of non-empty lines that end in terminal punctuation (zh/en), and the mean
    /// sentence length in characters. Broken pages (menus, fragments) have few punctuated lines; run-ons have long sentences.
    /// </summary>
    public static (double PunctuatedLines, double MeanSentenceChars) Readability(string text)
    {
        var lines = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (lines.Count == 0) return (0, 0);
        double punctuated = (double)lines.Count(l => ".!?\"'。！？…」』”’）)".Contains(l[^1])) / lines.Count;
        var sentences = SentenceSplit().Split(text).Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
        return (punctuated, sentences.Count == 0 ? 0 : sentences.Average(s => s.Length));
    }

    [GeneratedRegex(@"[\w.+-]+@[\w-]+(\.[\w-]+)+|(?<!\d)1[3-9]\d{9}(?!\d)|\+\d{1,3}[\s-]?\(?\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}|(?<!\d)0\d{2,3}-\d{7,8}(?!\d)|(?<!\d)\d{17}[\dXx](?!\d)")]
    private static partial Regex Privacy();

    [GeneratedRegex(@"</?(div|span|p|a|br|img|table|tr|td|ul|li|script|style|iframe|meta|link|form|input|button|head|body|html)\b[^>]*>|&(nbsp|amp|lt|gt|quot|#\d+);|javascript:|\bon(click|load|mouseover)\s*=|\{\s*[\w-]+\s*:\s*[^}]+;\s*\}", RegexOptions.IgnoreCase)]
    private static partial Regex Html();

    [GeneratedRegex(@"(?<=[。！？!?；;])|(?<=\.)\s")]
    private static partial Regex SentenceSplit();
}
