using System.Text;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters;

/// <summary>Options of <see cref="TextNormalizer"/>.</summary>
public sealed class TextNormalizerOptions
{
    /// <summary>Unicode normalization form: <c>nfc</c> (default; changes no character's meaning), <c>nfkc</c>, or <c>none</c>.</summary>
    public string Form { get; set; } = "nfc";
    /// <summary>Full-width letters and digits (ＡＢＣ１２３) → ASCII.</summary>
    public bool FullWidthAlphanumerics { get; set; } = true;
    /// <summary>Full-width ASCII punctuation (！，：；？ …) → ASCII. Off by default: it is ordinary Chinese punctuation.</summary>
    public bool FullWidthPunctuation { get; set; }
}

/// <summary>
/// Encoding-level standardisation (paper §2.1 DP): one Unicode normalization form, full-width alphanumerics and the
/// ideographic space as ASCII, every newline convention as <c>\n</c>, and exotic spaces (NBSP, en/em spaces, narrow
/// NBSP …) as a plain space. CJK punctuation is kept unless asked otherwise.
/// </summary>
public sealed class TextNormalizer(TextNormalizerOptions options) : IDataFilter
{
    readonly NormalizationForm? _form = options.Form.ToLowerInvariant() switch
    {
        "nfc" => NormalizationForm.FormC, "nfkc" => NormalizationForm.FormKC, "none" => null,
        var other => throw new ArgumentException($"form must be nfc, nfkc or none, not '{other}'"),
    };

    public FilterDecision Apply(Document document)
    {
        var text = Normalize(document.Text);
        return text == document.Text ? FilterDecision.Keep() : FilterDecision.Rewrite(document with { Text = text });
    }

    internal string Normalize(string text)
    {
        if (_form is { } form && !text.IsNormalized(form)) text = text.Normalize(form);
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '\r':
                    sb.Append('\n');
                    if (i + 1 < text.Length && text[i + 1] == '\n') i++;
                    continue;
                case '\u2028' or '\u2029' or '\u0085': sb.Append('\n'); continue;
                case '\u3000' or '\u00A0' or '\u202F' or '\u205F' or (>= '\u2000' and <= '\u200A'): sb.Append(' '); continue;
            }
            if (c is >= '\uFF01' and <= '\uFF5E')
            {
                char ascii = (char)(c - 0xFEE0);
                bool alphanumeric = char.IsAsciiLetterOrDigit(ascii);
                if (alphanumeric ? options.FullWidthAlphanumerics : options.FullWidthPunctuation) { sb.Append(ascii); continue; }
            }
            sb.Append(c);
        }
        return sb.ToString();
    }
}
