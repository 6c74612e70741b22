namespace Ziya2.Data;

/// <summary>
/// A data-factory step over a document stream (paper §2: preprocessing, scoring, rule-based filtering,
/// deduplication). Implementations must be deterministic for a given configuration; a filter that keeps
/// state across documents (deduplication) sees documents in the stream's order.
/// </summary>
public interface IDataFilter
{
    /// <summary>Decides about one document. Throwing marks the document as rejected with the exception as reason.</summary>
    FilterDecision Apply(Document document);
}

/// <summary>One document and what a filter decided about it.</summary>
/// <param name="Input">The document the filter saw.</param>
/// <param name="Decision">The decision.</param>
public readonly record struct FilterOutcome(Document Input, FilterDecision Decision)
{
    /// <summary>The document that continues downstream, or <c>null</c> when dropped.</summary>
    public Document? Output => Decision.Action switch
    {
        FilterAction.Keep => Input,
        FilterAction.Rewrite => Decision.Document,
        _ => null,
    };
}

/// <summary>Stream helpers for filters.</summary>
public static class DataFilterExtensions
{
    /// <summary>Applies <paramref name="filter"/> lazily to a stream, yielding every outcome (dropped ones included).</summary>
    public static IEnumerable<FilterOutcome> ApplyTo(this IDataFilter filter, IEnumerable<Document> documents)
    {
        foreach (var d in documents) yield return new FilterOutcome(d, filter.Apply(d));
    }
}
