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

    /// <summary>The table as stored: its slots, for the binary model file (<see cref="ArpaModel.SaveBinary"/>).</summary>
    internal void Write(BinaryWriter writer)
    {
        writer.Write(_keys.Length); writer.Write(Count);
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_keys.AsSpan()));
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_prob.AsSpan()));
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_backoff.AsSpan()));
    }

    /// <summary>A table read back from <see cref="Write"/>; a size that is not a power of two, or slots that disagree with the count, are refused.</summary>
    internal static ProbingTable Read(BinaryReader reader, string name)
    {
        int capacity = reader.ReadInt32(), count = reader.ReadInt32();
        if (capacity < 16 || (capacity & (capacity - 1)) != 0 || count < 0 || count * 3L > capacity * 2L)
            throw new InvalidDataException($"{name}: a table of {capacity} slots holding {count} n-grams is not one this program writes");
        // 16 bytes a slot must still be in the file: a corrupt size is refused before anything that large is allocated.
        if (capacity * 16L > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException($"{name}: the file ends inside a table (truncated)");
        var table = new ProbingTable(0) { _keys = new ulong[capacity], _prob = new float[capacity], _backoff = new float[capacity], _mask = capacity - 1, Count = count };
        Fill(reader, System.Runtime.InteropServices.MemoryMarshal.AsBytes(table._keys.AsSpan()), name);
        Fill(reader, System.Runtime.InteropServices.MemoryMarshal.AsBytes(table._prob.AsSpan()), name);
        Fill(reader, System.Runtime.InteropServices.MemoryMarshal.AsBytes(table._backoff.AsSpan()), name);
        int used = 0;
        foreach (var k in table._keys) if (k != 0) used++;
        if (used != count) throw new InvalidDataException($"{name}: a table says {count} n-grams but holds {used}");
        return table;
    }

    static void Fill(BinaryReader reader, Span<byte> target, string name)
    {
        if (reader.BaseStream.ReadAtLeast(target, target.Length, throwOnEndOfStream: false) != target.Length)
            throw new InvalidDataException($"{name}: the file ends inside a table (truncated)");
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
