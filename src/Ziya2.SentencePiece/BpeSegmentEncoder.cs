using System.Text;

namespace Ziya2.SentencePiece;

/// <summary>
/// The fast path of <see cref="SentencePieceBpe"/>, for models with byte fallback and no user-defined or unused pieces
/// (LLaMA's and what <c>spm_train --byte_fallback</c> writes): the same merges, decided without strings.
/// <list type="bullet">
/// <item>Segments: BPE merges two symbols only into a piece, so no merge ever spans two adjacent characters that no
/// piece holds side by side. The normalized text is cut at every such place (never inside a surrogate pair) and each
/// segment is encoded alone — exactly what encoding the whole text gives, since merges on the two sides never meet and
/// ties are broken leftmost-first within each side alike — and remembered: words and phrases recur, and a segment seen
/// before costs one lookup. The cache is per thread, bounded and allocation-free (<see cref="SegmentCache"/>).</item>
/// <item>Merges by ids: every piece is split at each position into two pieces where it can be, giving a table
/// (left id, right id) → merged id; symbols carry their ids, so a candidate pair is one integer lookup instead of
/// hashing its text, and the output needs no second lookup.</item>
/// </list>
/// </summary>
sealed class BpeSegmentEncoder
{
    const int ScanLimit = 48;
    readonly float[] _scores;
    readonly Dictionary<long, int> _merges = [];
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _pieces;
    readonly int[] _charIds = new int[char.MaxValue + 1];   // a one-unit piece's id by its char, -1 when none
    readonly bool[] _asciiAdjacent = new bool[128 * 128];    // two ASCII chars side by side in some piece
    readonly HashSet<int> _adjacent = [];                    // the same for every other pair of UTF-16 units
    readonly int[] _byteIds;
    readonly ThreadLocal<State> _state;

    sealed class State
    {
        public readonly SegmentCache Cache = new();
        public Symbol[] Symbols = new Symbol[64];
        public int[] PairIds = new int[64];
        public float[] PairScores = new float[64];
        public readonly PriorityQueue<Candidate, (float NegScore, int Left)> Agenda = new(ByScoreThenLeft.Instance);
    }

    struct Symbol { public int Start, Length, Prev, Next, Id; }

    readonly record struct Candidate(int Left, int Right, int Length, int Id);

    /// <summary>Highest score first; equal scores: leftmost first (SentencePiece's SymbolPairComparator).</summary>
    sealed class ByScoreThenLeft : IComparer<(float NegScore, int Left)>
    {
        public static readonly ByScoreThenLeft Instance = new();
        public int Compare((float NegScore, int Left) x, (float NegScore, int Left) y) =>
            x.NegScore < y.NegScore ? -1 : x.NegScore > y.NegScore ? 1 : x.Left.CompareTo(y.Left);
    }

    /// <summary>Whether the fast path encodes <paramref name="model"/> exactly as the reference does.</summary>
    public static bool Applies(SentencePieceModel model) =>
        model.ByteFallback && model.Pieces.All(p => p.Type is not (SentencePieceType.UserDefined or SentencePieceType.Unused));

    public BpeSegmentEncoder(SentencePieceModel model, Dictionary<string, int> pieces, int[] byteIds)
    {
        _scores = model.Pieces.Select(p => p.Score).ToArray();
        _pieces = pieces.GetAlternateLookup<ReadOnlySpan<char>>();
        _byteIds = byteIds;
        Array.Fill(_charIds, -1);
        foreach (var (piece, id) in pieces)
        {
            if (piece.Length == 1) _charIds[piece[0]] = id;
            for (int k = 1; k < piece.Length; k++)
            {
                char a = piece[k - 1], b = piece[k];
                if (a < 128 && b < 128) _asciiAdjacent[a * 128 + b] = true; else _adjacent.Add(a << 16 | b);
                if (_pieces.TryGetValue(piece.AsSpan(0, k), out int left) && _pieces.TryGetValue(piece.AsSpan(k), out int right))
                    _merges[Key(left, right)] = id;
            }
        }
        _state = new ThreadLocal<State>(() => new State());
    }

    static long Key(int left, int right) => (long)left << 32 | (uint)right;

    bool Adjacent(char a, char b) => a < 128 && b < 128 ? _asciiAdjacent[a * 128 + b] : _adjacent.Contains(a << 16 | b);

    /// <summary>The ids of <paramref name="normalized"/> (already normalized and whitespace-escaped) appended to <paramref name="ids"/>.</summary>
    public void Encode(ReadOnlySpan<char> normalized, List<int> ids)
    {
        var state = _state.Value!;
        int start = 0;
        for (int i = 1; i <= normalized.Length; i++)
        {
            if (i < normalized.Length && (Adjacent(normalized[i - 1], normalized[i]) || char.IsHighSurrogate(normalized[i - 1]) && char.IsLowSurrogate(normalized[i]))) continue;
            Segment(normalized[start..i], ids, state);
            start = i;
        }
    }

    void Segment(ReadOnlySpan<char> segment, List<int> ids, State state)
    {
        // One character (digits, punctuation, a word boundary): its piece, or its bytes.
        if (segment.Length == 1 && _charIds[segment[0]] is var single and >= 0) { ids.Add(single); return; }
        bool cacheable = segment.Length <= SegmentCache.MaxLength;
        if (cacheable && state.Cache.TryGet(segment, out var known)) { ids.AddRange(known); return; }
        int from = ids.Count;
        Merge(segment, ids, state);
        if (cacheable) state.Cache.Add(segment, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids)[from..]);
    }

    /// <summary>SentencePiece's BPE over one segment: characters, then the best-scoring adjacent pair merged until none is a piece.</summary>
    void Merge(ReadOnlySpan<char> s, List<int> ids, State state)
    {
        if (state.Symbols.Length < s.Length) state.Symbols = new Symbol[Math.Max(s.Length, state.Symbols.Length * 2)];
        var sym = state.Symbols;
        int count = 0;
        for (int i = 0; i < s.Length;)
        {
            bool pair = char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]);
            int length = pair ? 2 : 1;
            int id = pair ? (_pieces.TryGetValue(s.Slice(i, 2), out var p) ? p : -1) : _charIds[s[i]];
            sym[count] = new Symbol { Start = i, Length = length, Prev = count - 1, Next = count + 1, Id = id };
            count++;
            i += length;
        }
        sym[count - 1].Next = -1;
        if (count <= ScanLimit) ScanMerges(s, sym, count, state); else QueueMerges(s, sym, count, state);

        Span<byte> utf8 = stackalloc byte[8];
        for (int i = 0; i >= 0; i = sym[i].Next)
        {
            if (sym[i].Id >= 0) { ids.Add(sym[i].Id); continue; }
            int n = Encoding.UTF8.GetBytes(s.Slice(sym[i].Start, sym[i].Length), utf8);
            for (int b = 0; b < n; b++) ids.Add(_byteIds[utf8[b]]);
        }
    }

    /// <summary>The piece two adjacent symbols merge into, or -1.</summary>
    int MergedId(ReadOnlySpan<char> s, in Symbol l, in Symbol r)
    {
        if (l.Id >= 0 && r.Id >= 0) return _merges.TryGetValue(Key(l.Id, r.Id), out int id) ? id : -1;
        return _pieces.TryGetValue(s.Slice(l.Start, l.Length + r.Length), out int merged) ? merged : -1;   // a symbol that is no piece (byte fallback)
    }

    /// <summary>
    /// Short segments (most of them): each round scans the adjacent pairs left to right for the best score, keeping the
    /// leftmost of equals — the pair the priority queue would give — without the queue's cost.
    /// </summary>
    void ScanMerges(ReadOnlySpan<char> s, Symbol[] sym, int count, State state)
    {
        if (state.PairIds.Length < count) (state.PairIds, state.PairScores) = (new int[Math.Max(count, 64)], new float[Math.Max(count, 64)]);
        var (pairIds, pairScores) = (state.PairIds, state.PairScores);
        for (int i = 0; i < count - 1; i++)
        {
            pairIds[i] = MergedId(s, sym[i], sym[i + 1]);
            if (pairIds[i] >= 0) pairScores[i] = _scores[pairIds[i]];
        }
        pairIds[count - 1] = -1;
        while (true)
        {
            int best = -1;
            float bestScore = 0;
            for (int i = 0; i >= 0; i = sym[i].Next)
                if (pairIds[i] >= 0 && (best < 0 || pairScores[i] > bestScore)) (best, bestScore) = (i, pairScores[i]);
            if (best < 0) return;
            ref var l = ref sym[best];
            ref var r = ref sym[l.Next];
            l.Length += r.Length;
            l.Id = pairIds[best];
            l.Next = r.Next;
            if (r.Next >= 0) sym[r.Next].Prev = best;
            r.Length = 0;
            pairIds[best] = l.Next >= 0 ? MergedId(s, l, sym[l.Next]) : -1;
            if (pairIds[best] >= 0) pairScores[best] = _scores[pairIds[best]];
            if (l.Prev >= 0)
            {
                pairIds[l.Prev] = MergedId(s, sym[l.Prev], l);
                if (pairIds[l.Prev] >= 0) pairScores[l.Prev] = _scores[pairIds[l.Prev]];
            }
        }
    }

    /// <summary>Long segments: SentencePiece's agenda, a priority queue of candidate pairs (stale ones skipped).</summary>
    void QueueMerges(ReadOnlySpan<char> s, Symbol[] sym, int count, State state)
    {
        var agenda = state.Agenda;
        agenda.Clear();
        void Consider(int left, int right, ReadOnlySpan<char> text)
        {
            if (left < 0 || right < 0) return;
            int merged = MergedId(text, sym[left], sym[right]);
            if (merged >= 0) agenda.Enqueue(new Candidate(left, right, sym[left].Length + sym[right].Length, merged), (-_scores[merged], left));
        }
        for (int i = 1; i < count; i++) Consider(i - 1, i, s);

        while (agenda.TryDequeue(out var top, out _))
        {
            ref var l = ref sym[top.Left];
            ref var r = ref sym[top.Right];
            if (l.Length == 0 || r.Length == 0 || l.Length + r.Length != top.Length) continue;   // stale pair
            l.Length += r.Length;
            l.Id = top.Id;
            l.Next = r.Next;
            if (r.Next >= 0) sym[r.Next].Prev = top.Left;
            r.Length = 0;
            Consider(l.Prev, top.Left, s);
            Consider(top.Left, l.Next, s);
        }
    }
}
