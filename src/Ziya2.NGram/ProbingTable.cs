namespace Ziya2.NGram;

/// <summary>
/// A linear-probing hash table from an n-gram's 64-bit hash to its log10 probability and backoff — KenLM's "probing"
/// layout: 16 bytes per n-gram at 2/3 load, no strings, no per-entry objects. Like KenLM, entries are identified by
/// hash alone; two n-grams of one order colliding in 64 bits is vanishingly unlikely (p ≈ n²/2⁶⁵).
/// </summary>
sealed class ProbingTable
{
    /// <summary>Entries a table is first sized for at most: a header's declared count is only a hint (a hostile one says billions).</summary>
    public const long MaxInitial = 1 << 22;
    ulong[] _keys;
    float[] _prob, _backoff;
    int _mask;

    /// <summary>A table sized for <paramref name="expected"/> entries (at most <see cref="MaxInitial"/>); it grows as entries come.</summary>
    public ProbingTable(long expected)
    {
        long capacity = 16;
        while (capacity < Math.Min(expected, MaxInitial) * 3 / 2 + 1) capacity <<= 1;
        (_keys, _prob, _backoff, _mask) = (new ulong[capacity], new float[capacity], new float[capacity], (int)(capacity - 1));
    }

    public int Count { get; private set; }

    /// <summary>Adds or replaces an entry.</summary>
    public void Set(ulong key, float prob, float backoff)
    {
        if ((Count + 1) * 3L > _keys.LongLength * 2) Grow();   // keep the load at 2/3
        for (int i = (int)key & _mask; ; i = (i + 1) & _mask)
        {
            if (_keys[i] == 0) { _keys[i] = key; Count++; }
            else if (_keys[i] != key) continue;
            _prob[i] = prob; _backoff[i] = backoff;
            return;
        }
    }

    void Grow()
    {
        long capacity = _keys.LongLength * 2;
        if (capacity > Array.MaxLength) throw new InvalidDataException($"more than {Count:N0} n-grams of one order exceed what one table holds");
        var (keys, prob, backoff) = (_keys, _prob, _backoff);
        (_keys, _prob, _backoff, _mask) = (new ulong[capacity], new float[capacity], new float[capacity], (int)(capacity - 1));
        for (int j = 0; j < keys.Length; j++)
        {
            if (keys[j] == 0) continue;
            int i = (int)keys[j] & _mask;
            while (_keys[i] != 0) i = (i + 1) & _mask;
            (_keys[i], _prob[i], _backoff[i]) = (keys[j], prob[j], backoff[j]);
        }
    }

    public bool TryGet(ulong key, out float prob, out float backoff)
    {
        for (int i = (int)key & _mask; ; i = (i + 1) & _mask)
        {
            var k = _keys[i];
            if (k == key) { prob = _prob[i]; backoff = _backoff[i]; return true; }
            if (k == 0) { prob = backoff = 0; return false; }
        }
    }

    /// <summary>Hash of a word-id sequence (never 0, which marks an empty slot).</summary>
    public static ulong Hash(ReadOnlySpan<int> ids)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (var id in ids)
        {
            h = (h ^ (uint)id) * 0x9E3779B97F4A7C15UL;
            h ^= h >> 29; h *= 0xBF58476D1CE4E5B9UL; h ^= h >> 32;
        }
        return h == 0 ? 1 : h;
    }
}
