using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using System.Buffers.Binary;

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

    /// <summary>Key and values side by side: a hit costs one cache line, not three (scoring is bound by these misses).</summary>
    struct Slot { public ulong Key; public float Prob, Backoff; }

    Slot[] _slots;
    int _mask;

    /// <summary>A table sized for <paramref name="expected"/> entries (at most <see cref="MaxInitial"/>); it grows as entries come.</summary>
    public ProbingTable(long expected)
    {
        long capacity = 16;
        while (capacity < Math.Min(expected, MaxInitial) * 3 / 2 + 1) capacity <<= 1;
        (_slots, _mask) = (new Slot[capacity], (int)(capacity - 1));
    }

    public int Count { get; private set; }

    /// <summary>Adds or replaces an entry.</summary>
    public void Set(ulong key, float prob, float backoff)
    {
        if ((Count + 1) * 3L > _slots.LongLength * 2) Grow();   // keep the load at 2/3
        for (int i = (int)key & _mask; ; i = (i + 1) & _mask)
        {
            ref var slot = ref _slots[i];
            if (slot.Key == 0) { slot.Key = key; Count++; }
            else if (slot.Key != key) continue;
            slot.Prob = prob; slot.Backoff = backoff;
            return;
        }
    }

    void Grow()
    {
        long capacity = _slots.LongLength * 2;
        if (capacity > Array.MaxLength) throw new InvalidDataException($"more than {Count:N0} n-grams of one order exceed what one table holds");
        var old = _slots;
        (_slots, _mask) = (new Slot[capacity], (int)(capacity - 1));
        foreach (var slot in old)
        {
            if (slot.Key == 0) continue;
            int i = (int)slot.Key & _mask;
            while (_slots[i].Key != 0) i = (i + 1) & _mask;
            _slots[i] = slot;
        }
    }

    /// <summary>
    /// The table as stored: its slots' keys, then their probabilities, then their backoffs, for the binary model file
    /// (<see cref="ArpaModel.SaveBinary"/>; the file keeps the three arrays apart whatever the layout in memory).
    /// </summary>
    internal void Write(BinaryWriter writer)
    {
        writer.Write(_slots.Length); writer.Write(Count);
        var buffer = new byte[Math.Min(_slots.Length, ChunkSlots) * 8];
        foreach (var (field, start, n, bytes) in FileChunks(_slots.Length))
        {
            var chunk = buffer.AsSpan(0, bytes);
            for (int i = 0; i < n; i++)
            {
                ref readonly var slot = ref _slots[start + i];
                if (field == Field.Key) BinaryPrimitives.WriteUInt64LittleEndian(chunk[(i * 8)..], slot.Key);
                else BinaryPrimitives.WriteSingleLittleEndian(chunk[(i * 4)..], field == Field.Prob ? slot.Prob : slot.Backoff);
            }
            writer.Write(chunk);
        }
    }

    enum Field { Key, Prob, Backoff }

    const int ChunkSlots = 1 << 16;

    /// <summary>
    /// The file's layout, which <see cref="Write"/> and <see cref="Read"/> walk alike: each field's array in turn (keys,
    /// 8 bytes a slot, then probabilities and backoffs, 4), in chunks of at most <see cref="ChunkSlots"/> slots.
    /// </summary>
    static IEnumerable<(Field Field, int Start, int Slots, int Bytes)> FileChunks(int capacity)
    {
        foreach (var field in new[] { Field.Key, Field.Prob, Field.Backoff })
            for (int start = 0; start < capacity; start += ChunkSlots)
            {
                int slots = Math.Min(capacity - start, ChunkSlots);
                yield return (field, start, slots, slots * (field == Field.Key ? 8 : 4));
            }
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
        var table = new ProbingTable(0) { _slots = new Slot[capacity], _mask = capacity - 1, Count = count };
        var slots = table._slots;
        var buffer = new byte[Math.Min(capacity, ChunkSlots) * 8];
        foreach (var (field, start, n, bytes) in FileChunks(capacity))
        {
            var chunk = buffer.AsSpan(0, bytes);
            if (reader.BaseStream.ReadAtLeast(chunk, chunk.Length, throwOnEndOfStream: false) != chunk.Length)
                throw new InvalidDataException($"{name}: the file ends inside a table (truncated)");
            for (int i = 0; i < n; i++)
            {
                ref var slot = ref slots[start + i];
                if (field == Field.Key) slot.Key = BinaryPrimitives.ReadUInt64LittleEndian(chunk[(i * 8)..]);
                else if (field == Field.Prob) slot.Prob = BinaryPrimitives.ReadSingleLittleEndian(chunk[(i * 4)..]);
                else slot.Backoff = BinaryPrimitives.ReadSingleLittleEndian(chunk[(i * 4)..]);
            }
        }
        int used = 0;
        foreach (var slot in slots) if (slot.Key != 0) used++;
        if (used != count) throw new InvalidDataException($"{name}: a table says {count} n-grams but holds {used}");
        return table;
    }

    /// <summary>
    /// Asks the CPU to bring <paramref name="key"/>'s first slot into the cache (x86; elsewhere nothing). A scorer knows
    /// every key of the next word before it needs them: its lookups then overlap their cache misses instead of waiting
    /// for each in turn — a model is tens to hundreds of megabytes of tables, so nearly every lookup misses.
    /// </summary>
    public unsafe void Prefetch(ulong key)
    {
        // A prefetch never faults: a stale address (were the array ever moved) only fetches a useless line.
        if (Sse.IsSupported) Sse.Prefetch0(Unsafe.AsPointer(ref _slots[(int)key & _mask]));
    }

    public bool TryGet(ulong key, out float prob, out float backoff)
    {
        var slots = _slots;
        for (int i = (int)key & _mask; ; i = (i + 1) & _mask)
        {
            ref var slot = ref slots[i];
            if (slot.Key == key) { prob = slot.Prob; backoff = slot.Backoff; return true; }
            if (slot.Key == 0) { prob = backoff = 0; return false; }
        }
    }

    /// <summary>Hash of a word-id sequence (never 0, which marks an empty slot).</summary>
    public static ulong Hash(ReadOnlySpan<int> ids)
    {
        ulong h = HashStart;
        foreach (var id in ids) h = HashNext(h, id);
        return HashEnd(h);
    }

    /// <summary>The state <see cref="Hash"/> starts from; <see cref="HashNext"/> adds the next (newer) id; <see cref="HashEnd"/> gives the key.
    /// Apart so a scorer can extend the hashes of every n-gram ending at one word to those ending at the next.</summary>
    public const ulong HashStart = 0xCBF29CE484222325UL;

    /// <inheritdoc cref="HashStart"/>
    public static ulong HashNext(ulong h, int id)
    {
        h = (h ^ (uint)id) * 0x9E3779B97F4A7C15UL;
        h ^= h >> 29; h *= 0xBF58476D1CE4E5B9UL; h ^= h >> 32;
        return h;
    }

    /// <inheritdoc cref="HashStart"/>
    public static ulong HashEnd(ulong h) => h == 0 ? 1 : h;
}
