namespace Ziya2.SentencePiece;

/// <summary><c>ModelProto.SentencePiece.Type</c>, with the protobuf's numbers.</summary>
public enum SentencePieceType
{
    /// <summary>An ordinary piece.</summary>
    Normal = 1,
    /// <summary>The unknown piece.</summary>
    Unknown = 2,
    /// <summary>A control piece (&lt;s&gt;, &lt;/s&gt;); never produced from text.</summary>
    Control = 3,
    /// <summary>A user-defined piece, always kept whole.</summary>
    UserDefined = 4,
    /// <summary>A reserved piece the encoder must not emit (BPE re-splits it).</summary>
    Unused = 5,
    /// <summary>A byte-fallback piece &lt;0xNN&gt;.</summary>
    Byte = 6,
}
