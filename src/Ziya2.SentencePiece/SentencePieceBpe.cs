using System.Text;

namespace Ziya2.SentencePiece;

/// <summary>
/// SentencePiece's BPE encoder and decoder, reproduced rule for rule so ids match the C++ library exactly:
/// identity normalization (optionally removing extra spaces), dummy prefix, whitespace escaped as U+2581, characters
/// (user-defined pieces whole) merged greedily by piece score with <b>leftmost-first</b> ties (Microsoft.ML.Tokenizers
/// merges rightmost-first and so differs on runs such as "▁▁▁" — notes/libraries.md), unused pieces re-split, and
/// unknown symbols emitted as UTF-8 byte pieces when byte fallback is on. Models with byte fallback and no user-defined or
/// unused pieces take a faster path with the same result (<see cref="BpeSegmentEncoder"/>). Safe to share across threads.
/// </summary>
public sealed class SentencePieceBpe
{
    const char Space = '\u2581';
    readonly SentencePieceModel _model;
    readonly Dictionary<string, int> _pieces = new(StringComparer.Ordinal);     // normal, user-defined, unused
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    readonly Dictionary<string, int> _userDefined = new(StringComparer.Ordinal);
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _userDefinedLookup;
    readonly int _maxUserDefinedLength;
    readonly int[] _byteIds = new int[256];
    readonly BpeSegmentEncoder? _fast;

    public SentencePieceBpe(SentencePieceModel model)
    {
        if (model.ModelType != SentencePieceModel.Bpe) throw new InvalidDataException($"only BPE SentencePiece models are supported (model_type {model.ModelType})");
        if (model.HasCharsMap) throw new InvalidDataException($"normalization rule '{model.NormalizerRule}' needs a precompiled character map, which is not supported; LLaMA models use 'identity'");
        _model = model;
        Array.Fill(_byteIds, -1);
        for (int id = 0; id < model.Pieces.Count; id++)
        {
            var (piece, _, type) = model.Pieces[id];
            switch (type)
            {
                case SentencePieceType.Normal or SentencePieceType.Unused:
                    _pieces.TryAdd(piece, id); break;
                case SentencePieceType.UserDefined:
                    _pieces.TryAdd(piece, id); _userDefined.TryAdd(piece, id);
                    _maxUserDefinedLength = Math.Max(_maxUserDefinedLength, piece.Length); break;
                case SentencePieceType.Byte when piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>':
                    _byteIds[Convert.ToInt32(piece[3..5], 16)] = id; break;
            }
        }
        if (model.ByteFallback && _byteIds.Contains(-1)) throw new InvalidDataException("byte_fallback is on but not all 256 <0xNN> pieces exist");
        _lookup = _pieces.GetAlternateLookup<ReadOnlySpan<char>>();
        _userDefinedLookup = _userDefined.GetAlternateLookup<ReadOnlySpan<char>>();
        if (BpeSegmentEncoder.Applies(model)) _fast = new BpeSegmentEncoder(model, _pieces, _byteIds);
    }

    /// <summary>The normalized, whitespace-escaped form SentencePiece segments.</summary>
    public string Normalize(string text, bool dummyPrefix = true)
    {
        if (_model.RemoveExtraWhitespaces)
        {
            var sb = new StringBuilder(text.Length);
            foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (sb.Length > 0) sb.Append(' ');
                sb.Append(part);
            }
            text = sb.ToString();
        }
        if (text.Length == 0) return "";
        if (_model.AddDummyPrefix && dummyPrefix) text = _model.TreatWhitespaceAsSuffix ? text + " " : " " + text;
        return _model.EscapeWhitespaces ? text.Replace(' ', Space) : text;
    }

    struct Symbol { public int Start, Length, Prev, Next; public bool Frozen; }

    public List<int> Encode(string text, bool dummyPrefix = true)
    {
        if (_fast is null) return EncodeReference(text, dummyPrefix);
        var ids = new List<int>(text.Length / 2 + 1);
        Encode(text, ids, dummyPrefix);
        return ids;
    }

    [ThreadStatic] static char[]? _normalized;

    /// <summary>The ids of <paramref name="text"/> appended to <paramref name="ids"/>; on the fast path nothing is allocated per call.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> ids, bool dummyPrefix = true)
    {
        if (_fast is null) { ids.AddRange(EncodeReference(text.ToString(), dummyPrefix)); return; }
        var buffer = _normalized is { } b && b.Length >= text.Length + 1 ? b : _normalized = new char[Math.Max(256, (text.Length + 1) * 2)];
        int length = Normalize(text, dummyPrefix, buffer);
        if (length > 0) _fast.Encode(buffer.AsSpan(0, length), ids);
    }

    /// <summary><see cref="Normalize(string, bool)"/> into <paramref name="output"/> (at least one char longer than the text); returns the length.</summary>
    int Normalize(ReadOnlySpan<char> text, bool dummyPrefix, Span<char> output)
    {
        bool collapse = _model.RemoveExtraWhitespaces;
        if (collapse) text = text.Trim(' ');
        if (text.Length == 0) return 0;
        bool prefix = _model.AddDummyPrefix && dummyPrefix, suffix = prefix && _model.TreatWhitespaceAsSuffix;
        char space = _model.EscapeWhitespaces ? Space : ' ';
        int at = 0;
        if (prefix && !suffix) output[at++] = space;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c != ' ') { output[at++] = c; continue; }
            if (collapse && text[i - 1] == ' ') continue;   // runs of spaces become one (the text is trimmed: i > 0)
            output[at++] = space;
        }
        if (suffix) output[at++] = space;
        return at;
    }

    /// <summary>The encoder as SentencePiece writes it (every model; the fast path must agree with it).</summary>
    internal List<int> EncodeReference(string text, bool dummyPrefix = true)
    {
        var ids = new List<int>();
        var normalized = Normalize(text, dummyPrefix);
        if (normalized.Length == 0) return ids;
        var s = normalized.AsSpan();

        // Characters (a surrogate pair is one), user-defined pieces kept whole.
        var symbols = new List<Symbol>(s.Length);
        for (int i = 0; i < s.Length;)
        {
            int length = char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1;
            bool frozen = false;
            for (int n = Math.Min(_maxUserDefinedLength, s.Length - i); n > length; n--)
                if (_userDefinedLookup.ContainsKey(s.Slice(i, n))) { length = n; frozen = true; break; }
            if (!frozen && _userDefined.Count > 0 && _userDefinedLookup.ContainsKey(s.Slice(i, length))) frozen = true;
            symbols.Add(new Symbol { Start = i, Length = length, Prev = symbols.Count - 1, Next = -1, Frozen = frozen });
            i += length;
        }
        var sym = symbols.ToArray();
        for (int i = 0; i < sym.Length - 1; i++) sym[i].Next = i + 1;

        // Highest score first; equal scores: leftmost first (SentencePiece's SymbolPairComparator).
        var agenda = new PriorityQueue<(int Left, int Right, int Length), (float NegScore, int Left)>();
        var reverseMerge = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        void MaybeAdd(int left, int right)
        {
            if (left < 0 || right < 0 || sym[left].Frozen || sym[right].Frozen) return;
            var merged = normalized.AsSpan(sym[left].Start, sym[left].Length + sym[right].Length);
            if (!_lookup.TryGetValue(merged, out int id)) return;
            agenda.Enqueue((left, right, merged.Length), (-_model.Pieces[id].Score, left));
            if (_model.Pieces[id].Type == SentencePieceType.Unused)
                reverseMerge[merged.ToString()] = (normalized.AsSpan(sym[left].Start, sym[left].Length).ToString(), normalized.AsSpan(sym[right].Start, sym[right].Length).ToString());
        }
        for (int i = 1; i < sym.Length; i++) MaybeAdd(i - 1, i);

        while (agenda.TryDequeue(out var top, out _))
        {
            ref var l = ref sym[top.Left];
            ref var r = ref sym[top.Right];
            if (l.Length == 0 || r.Length == 0 || l.Length + r.Length != top.Length) continue;   // stale pair
            l.Length += r.Length;
            l.Next = r.Next;
            if (r.Next >= 0) sym[r.Next].Prev = top.Left;
            r.Length = 0;
            MaybeAdd(l.Prev, top.Left);
            MaybeAdd(top.Left, l.Next);
        }

        bool previousUnknown = false;
        for (int i = 0; i >= 0 && i < sym.Length; i = sym[i].Next)
            Emit(s.Slice(sym[i].Start, sym[i].Length).ToString(), ids, reverseMerge, ref previousUnknown);
        return ids;
    }

    void Emit(string piece, List<int> ids, Dictionary<string, (string, string)> reverseMerge, ref bool previousUnknown)
    {
        if (_pieces.TryGetValue(piece, out int id))
        {
            if (_model.Pieces[id].Type == SentencePieceType.Unused && reverseMerge.TryGetValue(piece, out var parts))
            {
                Emit(parts.Item1, ids, reverseMerge, ref previousUnknown);
                Emit(parts.Item2, ids, reverseMerge, ref previousUnknown);
                return;
            }
            ids.Add(id);
            previousUnknown = false;
            return;
        }
        if (_model.ByteFallback)
        {
            foreach (var b in Encoding.UTF8.GetBytes(piece)) ids.Add(_byteIds[b]);
            previousUnknown = false;
            return;
        }
        if (!previousUnknown) ids.Add(_model.UnkId);   // consecutive unknowns collapse into one <unk>
        previousUnknown = true;
    }

    public string Decode(IReadOnlyList<int> ids)
    {
        var sb = new StringBuilder();
        var bytes = new List<byte>();
        bool first = true;
        void FlushBytes() { if (bytes.Count > 0) { sb.Append(Encoding.UTF8.GetString(bytes.ToArray())); bytes.Clear(); } }
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)_model.Pieces.Count) throw new ArgumentOutOfRangeException(nameof(ids), $"id {id} is outside the vocabulary ({_model.Pieces.Count})");
            var (piece, _, type) = _model.Pieces[id];
            switch (type)
            {
                case SentencePieceType.Control: continue;
                case SentencePieceType.Byte: bytes.Add(Convert.ToByte(piece[3..5], 16)); first = false; continue;
            }
            FlushBytes();
            var text = type == SentencePieceType.Unknown ? _model.UnkSurface : piece;
            // The dummy prefix added while encoding is removed from the first piece.
            if (first && _model.AddDummyPrefix && !_model.TreatWhitespaceAsSuffix && text.Length > 0 && text[0] == Space) text = text[1..];
            first = false;
            sb.Append(text);
        }
        FlushBytes();
        return _model.EscapeWhitespaces ? sb.Replace(Space, ' ').ToString() : sb.ToString();
    }
}
