namespace Ziya2.Data;

/// <summary>Where a record sits in a pipeline's input: the shard's index in input order and the record's index within it (0-based, malformed records counted).</summary>
/// <param name="Shard">Index of the shard in the pipeline's input list.</param>
/// <param name="Record">Index of the record in the shard.</param>
public readonly record struct DocumentPosition(int Shard, long Record) : IComparable<DocumentPosition>
{
    /// <summary>Input order: shard first, then record.</summary>
    public int CompareTo(DocumentPosition other) => Shard != other.Shard ? Shard.CompareTo(other.Shard) : Record.CompareTo(other.Record);
}

/// <summary>
/// A data filter whose decision about one document depends on the whole corpus — perplexity buckets by quantile,
/// deduplication where the first-seen document of a cluster survives. The engine runs it in two passes, so shards
/// can still be processed in parallel and the result does not depend on which worker came first:
/// <list type="number">
/// <item>Pass 1, per shard on a fresh instance: <see cref="Observe"/> every document that reaches this step, then
/// <see cref="SaveObservations"/>.</item>
/// <item>Once, on one instance: <see cref="Decide"/> from all shards' observations in input order. The engine keeps the
/// decision in the output directory, so a resumed run reuses it.</item>
/// <item>Pass 2, per shard: <see cref="UseDecision"/>, then <see cref="Apply(Document, DocumentPosition)"/> per document.</item>
/// <item>After every shard is done: <see cref="Commit"/> once (persist incremental indexes); never for a failed run.</item>
/// </list>
/// Memory is the implementation's to bound; state per document (a hash, a float) is the expected order of size. When
/// the decision splits by key, implement <see cref="IPartitionedCorpusDataFilter"/> so that no one task reads every
/// observation.
/// </summary>
public interface ICorpusDataFilter : IDataFilter
{
    /// <summary>Pass 1: a document that reached this step, in shard order.</summary>
    void Observe(Document document, DocumentPosition position);

    /// <summary>Pass 1: what this instance observed, serialised.</summary>
    byte[] SaveObservations();

    /// <summary>Between the passes: the decision state from every shard's observations, given in input order.</summary>
    byte[] Decide(IReadOnlyList<byte[]> observations);

    /// <summary>Pass 2: loads the decision before the first <see cref="Apply(Document, DocumentPosition)"/>.</summary>
    void UseDecision(byte[] decision);

    /// <summary>Pass 2: decides about one document at its position.</summary>
    FilterDecision Apply(Document document, DocumentPosition position);

    /// <summary>Makes the run's state permanent (an incremental index gains this run's documents). Default: nothing.</summary>
    void Commit(byte[] decision) { }

    /// <summary>Corpus filters need the document's position; the engine never calls this overload.</summary>
    FilterDecision IDataFilter.Apply(Document document) =>
        throw new InvalidOperationException($"{GetType().Name} decides over the whole corpus; run it in a data pipeline (Apply(document, position))");
}
