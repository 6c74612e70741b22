using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace Ziya2.Plugins.Dedup;

/// <summary>What makes two URLs or two texts "the same" for deduplication, and the stable hashes of them.</summary>
static class Normalization
{
    static readonly string[] TrackingPrefixes = ["utm_", "spm", "fbclid", "gclid", "yclid", "mc_", "from", "share", "ref", "src"];

    /// <summary>
    /// Scheme-less, lower-case host without <c>www.</c> and default port, no fragment, no trailing slash, tracking
    /// parameters (utm_*, spm, fbclid, gclid, from, share, ref …) removed and the rest sorted. Null when not a URL.
    /// </summary>
    public static string? Url(string? url)
    {
        if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) return null;
        var host = uri.IdnHost.ToLowerInvariant();
        if (host.StartsWith("www.", StringComparison.Ordinal)) host = host[4..];
        var path = Uri.UnescapeDataString(uri.AbsolutePath).TrimEnd('/');
        var query = uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !TrackingPrefixes.Any(t => p.StartsWith(t, StringComparison.OrdinalIgnoreCase)))
            .Order(StringComparer.Ordinal);
        var q = string.Join('&', query);
        return host + (uri.IsDefaultPort ? "" : ":" + uri.Port) + path + (q.Length > 0 ? "?" + q : "");
    }

    /// <summary>Text without punctuation, symbols (emoji included), marks of formatting or whitespace; lower case; NFKC.</summary>
    public static string Text(string text)
    {
        var b = new StringBuilder(text.Length);
        foreach (var r in text.Normalize(NormalizationForm.FormKC).EnumerateRunes())
        {
            switch (Rune.GetUnicodeCategory(r))
            {
                case UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Control or UnicodeCategory.Format
                    or UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
                    or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation
                    or UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol or UnicodeCategory.OtherSymbol
                    or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse:
                    continue;
                default:
                    b.Append(Rune.ToLowerInvariant(r).ToString());
                    break;
            }
        }
        return b.ToString();
    }

    /// <summary>xxHash64 of the UTF-8 bytes (stable across processes and machines); never 0, which means "none".</summary>
    public static ulong Hash(string s)
    {
        var h = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(s));
        return h == 0 ? 1 : h;
    }
}
