namespace Ziya2.NGram;

/// <summary>
/// A linear-probing hash table from an n-gram's 64-bit hash to its log10 probability and backoff — KenLM's "probing"
/// layout: 16 bytes per n-gram at 2/3 load, no strings, no per-entry objects. Like KenLM, entries are identified by
/// hash alone; two n-grams of one order colliding in 64 bits is vanishingly unlikely (p ≈ n²/2⁶⁵).
/// </summary>
sealed class ProbingTable
{
    readonly ulong[] _keys;
    readonly float[] _prob, _backoff;
    readonly int _mask;

    public ProbingTable(long count)
    {
        long capacity = 16;
        while (capacity < count * 3 / 2 + 1) capacity <<= 1;
        if (capacity > Array.MaxLength) throw new InvalidDataException($"{count:N0} n-grams of one order exceed what one table holds");
        _keys = new ulong[capacity]; _prob = new float[capacity]; _backoff = new float[capacity];
        _mask = (int)(capacity - 1);
    }

    public int Count { get; private set; }

    /// <summary>Adds or replaces an entry.</summary>
    public void Set(ulong key, float prob, float backoff)
    {
        for (int i = (int)key & _mask; ; i = (i + 1) & _mask)
        {
            if (_keys[i] == 0) { _keys[i] = key; Count++; }
            else if (_keys[i] != key) continue;
            _prob[i] = prob; _backoff[i] = backoff;
            return;
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
