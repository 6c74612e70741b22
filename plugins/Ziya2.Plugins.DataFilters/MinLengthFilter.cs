using System.Globalization;
using Ziya2.Configuration;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters;

/// <summary>Options of <see cref="MinLengthFilter"/>.</summary>
public sealed class MinLengthOptions : IValidatableOptions
{
    /// <summary>Minimum length in user-perceived characters (grapheme clusters), so CJK and emoji count as one each.</summary>
    public int MinChars { get; set; } = 50;

    public IEnumerable<string> Validate()
    {
        if (MinChars < 0) yield return "min_chars must be >= 0";
    }
}

/// <summary>Drops documents shorter than <see cref="MinLengthOptions.MinChars"/> (reason <c>too_short</c>).</summary>
public sealed class MinLengthFilter(MinLengthOptions options) : IDataFilter
{
    public FilterDecision Apply(Document document) =>
        HasAtLeast(document.Text.AsSpan().Trim(), options.MinChars) ? FilterDecision.Keep() : FilterDecision.Drop("too_short");

    /// <summary>Whether <paramref name="text"/> has <paramref name="count"/> grapheme clusters: counted only that far (a page has thousands).</summary>
    internal static bool HasAtLeast(ReadOnlySpan<char> text, int count)
    {
        if (text.Length < count) return false;   // a cluster is at least one UTF-16 unit
        for (int seen = 0; seen < count; seen++)
        {
            if (text.IsEmpty) return false;
            text = text[StringInfo.GetNextTextElementLength(text)..];
        }
        return true;
    }
}
