using System.Buffers.Binary;
using System.Text;

namespace Ziya2.SentencePiece;

/// <summary>
/// SentencePiece's normalizer (normalizer.cc) with a precompiled character map — <c>nmt_nfkc</c>, CCNet's models — rule
/// for rule: at each position the longest user-defined piece is kept as it is, else the longest rule of the map's
/// double-array trie (Darts-clone, over UTF-8 bytes) replaces its match, else one character is copied (a malformed byte
/// becomes U+FFFD); then leading, repeated and trailing spaces are removed, the dummy prefix added and spaces escaped
/// as U+2581.
/// </summary>
public sealed class SentencePieceNormalizer
{
    const string Space = "\u2581";
    readonly SentencePieceModel _model;
    readonly uint[] _trie;
    readonly byte[] _replacements;
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _userDefined;
    readonly int _maxUserDefinedLength;

    public SentencePieceNormalizer(SentencePieceModel model)
    {
        _model = model;
        (_trie, _replacements) = Decode(model.PrecompiledCharsMap);
        var userDefined = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (piece, _, type) in model.Pieces)
            if (type == SentencePieceType.UserDefined) { userDefined.TryAdd(piece, 0); _maxUserDefinedLength = Math.Max(_maxUserDefinedLength, piece.Length); }
        _userDefined = userDefined.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The blob: a little-endian uint32 trie size, the trie's 32-bit units, then NUL-terminated replacements.</summary>
    static (uint[] Trie, byte[] Replacements) Decode(byte[] blob)
    {
        if (blob.Length == 0) return ([], []);
        if (blob.Length < 4) throw new InvalidDataException("precompiled charsmap is truncated");
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (size % 4 != 0 || size > blob.Length - 4) throw new InvalidDataException($"precompiled charsmap: trie of {size} bytes does not fit in {blob.Length}");
        var trie = new uint[size / 4];
        for (int i = 0; i < trie.Length; i++) trie[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(4 + i * 4));
        return (trie, blob[(4 + (int)size)..]);
    }

    // Darts-clone unit accessors (darts.h).
    static bool HasLeaf(uint unit) => ((unit >> 8) & 1) == 1;
    static uint Value(uint unit) => unit & ((1u << 31) - 1);
    static uint Label(uint unit) => unit & ((1u << 31) | 0xFF);
    static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);

    /// <summary>The longest rule matching the start of <paramref name="key"/>: its byte length (0: none) and replacement offset.</summary>
    (int Length, int Value) LongestRule(ReadOnlySpan<byte> key)
    {
        if (_trie.Length == 0) return (0, 0);
        (int length, int value) best = (0, 0);
        uint nodePos = 0;
        uint unit = _trie[0];
        nodePos ^= Offset(unit);
        for (int i = 0; i < key.Length; i++)
        {
            nodePos ^= key[i];
            if (nodePos >= _trie.Length) return best;
            unit = _trie[nodePos];
            if (Label(unit) != key[i]) return best;
            nodePos ^= Offset(unit);
            if (HasLeaf(unit) && nodePos < _trie.Length) best = (i + 1, (int)Value(_trie[nodePos]));
        }
        return best;
    }

    string Replacement(int offset)
    {
        int end = Array.IndexOf(_replacements, (byte)0, offset);
        if (offset >= _replacements.Length || end < 0) throw new InvalidDataException("precompiled charsmap: replacement outside the table");
        return Encoding.UTF8.GetString(_replacements, offset, end - offset);
    }

    /// <summary>The normalized, whitespace-escaped text SentencePiece segments.</summary>
    public string Normalize(string text)
    {
        var input = Encoding.UTF8.GetBytes(text);
        var output = new StringBuilder(text.Length + 1);
        int pos = 0;

        (string Text, int Consumed) Prefix(int at)
        {
            if (_maxUserDefinedLength > 0)
            {
                // User-defined pieces pass unnormalized (longest first); measured in characters of the rest of the input.
                var rest = Encoding.UTF8.GetString(input, at, Math.Min(input.Length - at, _maxUserDefinedLength * 4));
                for (int n = Math.Min(_maxUserDefinedLength, rest.Length); n > 0; n--)
                    if (_userDefined.ContainsKey(rest.AsSpan(0, n))) return (rest[..n], Encoding.UTF8.GetByteCount(rest.AsSpan(0, n)));
            }
            var (length, value) = LongestRule(input.AsSpan(at));
            if (length > 0) return (Replacement(value), length);
            int charLength = Utf8Length(input.AsSpan(at));
            return charLength == 0 ? ("\uFFFD", 1) : (Encoding.UTF8.GetString(input, at, charLength), charLength);
        }

        if (_model.RemoveExtraWhitespaces)
            while (pos < input.Length)
            {
                var (p, consumed) = Prefix(pos);
                if (p != " ") break;
                pos += consumed;
            }
        if (pos == input.Length) return "";
        if (_model.AddDummyPrefix && !_model.TreatWhitespaceAsSuffix) output.Append(_model.EscapeWhitespaces ? Space : " ");

        bool previousSpace = _model.RemoveExtraWhitespaces;
        while (pos < input.Length)
        {
            var (piece, consumed) = Prefix(pos);
            var span = piece.AsSpan();
            if (previousSpace) span = span.TrimStart(' ');
            if (!span.IsEmpty)
            {
                foreach (var c in span)
                    if (c == ' ' && _model.EscapeWhitespaces) output.Append(Space); else output.Append(c);
                previousSpace = span[^1] == ' ';
            }
            pos += consumed;
            if (!_model.RemoveExtraWhitespaces) previousSpace = false;
        }
        if (_model.RemoveExtraWhitespaces)
        {
            var space = _model.EscapeWhitespaces ? Space : " ";
            while (output.Length > 0 && output[^1] == space[0]) output.Length--;
        }
        if (_model.AddDummyPrefix && _model.TreatWhitespaceAsSuffix) output.Append(_model.EscapeWhitespaces ? Space : " ");
        return output.ToString();
    }

    /// <summary>The byte length of the UTF-8 character at the start, or 0 when it is malformed (SentencePiece's IsValidDecodeUTF8).</summary>
    static int Utf8Length(ReadOnlySpan<byte> s) =>
        System.Text.Rune.DecodeFromUtf8(s, out _, out int consumed) == System.Buffers.OperationStatus.Done ? consumed : 0;
}
