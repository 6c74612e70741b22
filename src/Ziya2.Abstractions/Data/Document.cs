using System.Collections.Immutable;

namespace Ziya2.Data;

/// <summary>
/// One document flowing through the data factory. Immutable: steps that change a document return a new one
/// (<c>with</c> expressions), and annotate it non-destructively through <see cref="Attributes"/>.
/// </summary>
/// <param name="Id">Stable identifier, unique within its source.</param>
/// <param name="Text">The document text.</param>
public sealed record Document(string Id, string Text)
{
    /// <summary>Origin URL, when known (used by URL deduplication).</summary>
    public string? Url { get; init; }

    /// <summary>Source corpus name, e.g. <c>common-crawl</c> or <c>wudao</c>.</summary>
    public string? Source { get; init; }

    /// <summary>ISO 639-1 language code once identified, e.g. <c>zh</c>.</summary>
    public string? Language { get; init; }

    /// <summary>
    /// Values written by steps: scores, buckets, hashes. Values are strings, booleans, 64-bit integers or
    /// doubles so they serialise losslessly to JSON.
    /// </summary>
    public ImmutableSortedDictionary<string, object> Attributes { get; init; } = ImmutableSortedDictionary<string, object>.Empty;

    /// <summary>Returns a copy with one attribute set.</summary>
    public Document WithAttribute(string key, object value)
    {
        if (value is not (string or bool or long or int or double or float))
            throw new ArgumentException($"attribute '{key}' must be a string, bool, integer or double, not {value.GetType().Name}", nameof(value));
        return this with { Attributes = Attributes.SetItem(key, value is int i ? (long)i : value is float f ? (double)f : value) };
    }
}
