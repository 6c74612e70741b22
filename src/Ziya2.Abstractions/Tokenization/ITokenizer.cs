namespace Ziya2.Tokenization;

/// <summary>Kinds of vocabulary entries (SentencePiece's, which GGUF also uses).</summary>
public enum TokenType
{
    /// <summary>An ordinary piece.</summary>
    Normal = 1,
    /// <summary>The unknown token.</summary>
    Unknown = 2,
    /// <summary>A control token such as &lt;s&gt;; never produced from text.</summary>
    Control = 3,
    /// <summary>A user-defined piece, always kept whole.</summary>
    UserDefined = 4,
    /// <summary>A reserved, unused entry.</summary>
    Unused = 5,
    /// <summary>A byte-fallback piece &lt;0xNN&gt;.</summary>
    Byte = 6,
}

/// <summary>A tokenizer's vocabulary: a piece, score and type per id, and the special ids.</summary>
/// <param name="Pieces">Piece text per id.</param>
/// <param name="Scores">Score per id (merge priority for BPE).</param>
/// <param name="Types">Type per id.</param>
/// <param name="UnknownId">Id of the unknown token.</param>
/// <param name="BosId">Beginning-of-sequence id, if any.</param>
/// <param name="EosId">End-of-sequence id, if any.</param>
/// <param name="PadId">Padding id, if any.</param>
public sealed record TokenizerVocabulary(IReadOnlyList<string> Pieces, IReadOnlyList<float> Scores, IReadOnlyList<TokenType> Types,
    int UnknownId, int? BosId, int? EosId, int? PadId);

/// <summary>
/// Turns text into token ids and back; the component a recipe gets for <c>Tokenizer("sentencepiece")</c>. Encoding and
/// decoding must be safe to call from several threads at once: token files are built on every core.
/// </summary>
public interface ITokenizer
{
    /// <summary>The vocabulary (also written into GGUF exports).</summary>
    TokenizerVocabulary Vocabulary { get; }

    /// <summary>Number of ids.</summary>
    int VocabSize => Vocabulary.Pieces.Count;

    /// <summary>
    /// Ids of <paramref name="text"/>. Text is always plain text: "&lt;s&gt;" inside it is not a control token. Special ids
    /// are added only through <paramref name="addBos"/> / <paramref name="addEos"/>.
    /// </summary>
    IReadOnlyList<int> Encode(string text, bool addBos = false, bool addEos = false);

    /// <summary>
    /// The ids of <paramref name="text"/> (no special ids) appended to <paramref name="ids"/>: <see cref="Encode"/> without
    /// a string or a result to allocate, for streaming a corpus line by line. The default goes through
    /// <see cref="Encode"/>; a tokenizer that can encode a span in place overrides it.
    /// </summary>
    void EncodeInto(ReadOnlySpan<char> text, List<int> ids) => ids.AddRange(Encode(text.ToString()));

    /// <summary>Text of <paramref name="ids"/>; control tokens produce nothing.</summary>
    string Decode(IReadOnlyList<int> ids);
}
