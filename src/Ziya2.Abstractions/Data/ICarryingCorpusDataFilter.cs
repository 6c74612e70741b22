namespace Ziya2.Data;

/// <summary>
/// A corpus filter whose per-document work in pass 1 — a perplexity, a score — pass 2 needs again. The engine keeps the
/// number <see cref="ObserveAndCarry"/> returns for each document beside the shard's observations (8 bytes per document
/// and its position) and hands it to <see cref="Apply(Document, DocumentPosition, double)"/>, so the work is done once.
/// When it has no number for a document (the observations came from a run before this interface, or a file was lost) it
/// calls <see cref="ICorpusDataFilter.Apply(Document, DocumentPosition)"/>, which must decide alone: the result must be
/// the same either way. The 8 bytes are kept exactly, so a filter may carry 64 bits of its own (a hash) as the double
/// <see cref="BitConverter.UInt64BitsToDouble"/> makes of them.
/// </summary>
public interface ICarryingCorpusDataFilter : ICorpusDataFilter
{
    /// <summary>Pass 1: observes the document (as <see cref="ICorpusDataFilter.Observe"/>) and returns the number to hand to pass 2.</summary>
    double ObserveAndCarry(Document document, DocumentPosition position);

    /// <summary>Pass 2: decides about one document with the number pass 1 returned for it.</summary>
    FilterDecision Apply(Document document, DocumentPosition position, double carried);

    /// <summary>Observing without carrying is observing and dropping the number.</summary>
    void ICorpusDataFilter.Observe(Document document, DocumentPosition position) => ObserveAndCarry(document, position);
}
