using System.Buffers.Binary;

namespace Ziya2.Plugins.Dedup;

/// <summary>
/// A Bloom filter over 64-bit item hashes (Kirsch–Mitzenmacher double hashing), sized for n items at false-positive
/// rate p: m = −n·ln p / ln²2 bits (28.8 bits per item at 10⁻⁶), k = m/n·ln 2 probes. No false negatives: a URL or
/// text seen before is always caught; a new one is wrongly taken for a duplicate with probability p (more once the
/// filter holds more than n items). Persisted as a small header and the bit array, replaced atomically.
/// </summary>
sealed class BloomFilter
{
    static readonly byte[] Magic = "Z2BLOOM1"u8.ToArray();
    readonly ulong[] _bits;

    public long Bits { get; }
    public int Probes { get; }

    BloomFilter(long bits, int probes, ulong[] words) { Bits = bits; Probes = probes; _bits = words; }

    public static BloomFilter Create(long expectedItems, double falsePositiveRate)
    {
        long m = Math.Max(64, (long)Math.Ceiling(-expectedItems * Math.Log(falsePositiveRate) / (Math.Log(2) * Math.Log(2))));
        int k = Math.Clamp((int)Math.Round((double)m / expectedItems * Math.Log(2)), 1, 64);
        return new BloomFilter(m, k, new ulong[(m + 63) / 64]);
    }

    /// <summary>Adds an item; returns whether it may have been present already.</summary>
    public bool Add(ulong item)
    {
        bool present = true;
        ulong h1 = item, h2 = Mix(item) | 1;
        for (int i = 0; i < Probes; i++)
        {
            var bit = (long)((h1 + (ulong)i * h2) % (ulong)Bits);
            ref var word = ref _bits[bit >> 6];
            var mask = 1UL << (int)(bit & 63);
            if ((word & mask) == 0) { present = false; word |= mask; }
        }
        return present;
    }

    public bool Contains(ulong item)
    {
        ulong h1 = item, h2 = Mix(item) | 1;
        for (int i = 0; i < Probes; i++)
        {
            var bit = (long)((h1 + (ulong)i * h2) % (ulong)Bits);
            if ((_bits[bit >> 6] & (1UL << (int)(bit & 63))) == 0) return false;
        }
        return true;
    }

    static ulong Mix(ulong x)
    {
        x ^= x >> 33; x *= 0xFF51AFD7ED558CCDUL; x ^= x >> 33; x *= 0xC4CEB9FE1A85EC53UL; x ^= x >> 33;
        return x;
    }

    /// <summary>Reads a filter file; refuses anything that is not one, naming the file.</summary>
    public static BloomFilter Load(string path)
    {
        using var s = File.OpenRead(path);
        Span<byte> header = stackalloc byte[20];
        if (s.Read(header) != 20 || !header[..8].SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a Bloom filter file");
        long m = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        int k = BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
        var words = new ulong[(m + 63) / 64];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(words.AsSpan());
        if (m <= 0 || k is < 1 or > 64 || s.Length != 20 + bytes.Length) throw new InvalidDataException($"{path}: damaged Bloom filter ({s.Length} bytes for {m} bits)");
        s.ReadExactly(bytes);
        return new BloomFilter(m, k, words);
    }

    /// <summary>Writes to a temporary file and renames it over <paramref name="path"/>.</summary>
    public void Save(string path)
    {
        var tmp = path + ".tmp";
        using (var s = File.Create(tmp))
        {
            Span<byte> header = stackalloc byte[20];
            Magic.CopyTo(header);
            BinaryPrimitives.WriteInt64LittleEndian(header[8..], Bits);
            BinaryPrimitives.WriteInt32LittleEndian(header[16..], Probes);
            s.Write(header);
            s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_bits.AsSpan()));
        }
        File.Move(tmp, path, overwrite: true);
    }

    public static BloomFilter LoadOrCreate(string? path, long expectedItems, double falsePositiveRate) =>
        path is not null && File.Exists(path) ? Load(path) : Create(expectedItems, falsePositiveRate);
}
