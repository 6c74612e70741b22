using Ziya2.Configuration;
using Ziya2.Data;

namespace MyZiya2Plugin;

/// <summary>Options, bound from the recipe's TOML (<c>[filters.my-component]</c> by default; keys in snake_case).</summary>
public sealed class ComponentFilterOptions : IValidatableOptions
{
    /// <summary>A document containing any of these (ordinal, case-insensitive) is dropped.</summary>
    public List<string> Phrases { get; set; } = [];

    /// <summary>The reason recorded for dropped documents (it appears in rejects and the funnel).</summary>
    public string Reason { get; set; } = "blocked_phrase";

    /// <inheritdoc/>
    public IEnumerable<string> Validate()
    {
        if (Phrases.Any(string.IsNullOrWhiteSpace)) yield return "phrases must not contain empty entries";
        if (string.IsNullOrWhiteSpace(Reason)) yield return "reason must not be empty";
    }
}

/// <summary>
/// Drops documents that contain a configured phrase. The data factory builds one instance per shard worker, so a
/// filter needs no locking; it must be deterministic for a given configuration.
/// </summary>
public sealed class ComponentFilter(ComponentFilterOptions options) : IDataFilter
{
    /// <inheritdoc/>
    public FilterDecision Apply(Document document) =>
        options.Phrases.Any(p => document.Text.Contains(p, StringComparison.OrdinalIgnoreCase)) ? FilterDecision.Drop(options.Reason) : FilterDecision.Keep();
}
