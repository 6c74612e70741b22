using System.Buffers.Binary;

namespace Ziya2.Data;

/// <summary>
/// What one producer of a partitioned corpus step sends on — an observing shard, or one partition of a reduce round:
/// records for partitions of later rounds (<see cref="ToRound"/>), its decision about documents, per shard
/// (<see cref="ToShard"/>), and what it adds to a persistent index once the whole run has finished
/// (<see cref="ToCommit"/>). The engine stores each producer's sections in files on shared storage; a consumer reads
/// only its own section of each file (a sorted table of contents is searched, not scanned).
/// </summary>
public sealed class CorpusRoutes
{
    const byte Round = 0, Shard = 1, Commit = 2;
    const int EntryBytes = 1 + 4 + 4 + 8 + 8;
    static readonly byte[] Magic = "Z2ROUTE1"u8.ToArray();

    readonly SortedDictionary<(byte Kind, int A, int B), MemoryStream> _sections = [];

    /// <summary>Records for partition <paramref name="partition"/> of round <paramref name="round"/> (0-based, in <see cref="IPartitionedCorpusDataFilter.Rounds"/>).</summary>
    public Stream ToRound(int round, int partition) => Section(Round, round, partition);

    /// <summary>This producer's decision about documents of shard <paramref name="shard"/> (a <see cref="DocumentPosition.Shard"/>).</summary>
    public Stream ToShard(int shard) => Section(Shard, shard, 0);

    /// <summary>What this producer adds to a persistent index when the run has finished (given back to <see cref="IPartitionedCorpusDataFilter.Commit"/>).</summary>
    public Stream ToCommit() => Section(Commit, 0, 0);

    /// <summary>The rounds and partitions this producer sent records to, in order.</summary>
    public IEnumerable<(int Round, int Partition)> Rounds => _sections.Keys.Where(k => k.Kind == Round).Select(k => (k.A, k.B));

    /// <summary>Whether anything was written for a shard or a commit (an observing producer may only route).</summary>
    public bool HasDecision => _sections.Keys.Any(k => k.Kind != Round);

    Stream Section(byte kind, int a, int b)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(a);
        ArgumentOutOfRangeException.ThrowIfNegative(b);
        if (!_sections.TryGetValue((kind, a, b), out var s)) _sections[(kind, a, b)] = s = new MemoryStream();
        return s;
    }

    /// <summary>The records sent to later rounds, as one file.</summary>
    public byte[] RoutesToBytes() => Serialize(k => k.Kind == Round);

    /// <summary>The decision about shards and the commit, as one file.</summary>
    public byte[] DecisionToBytes() => Serialize(k => k.Kind != Round);

    /// <summary>Every section, as one file.</summary>
    public byte[] ToBytes() => Serialize(_ => true);

    byte[] Serialize(Func<(byte Kind, int A, int B), bool> which)
    {
        var chosen = _sections.Where(s => which(s.Key) && s.Value.Length > 0).ToList();
        long offset = Magic.Length + 4 + (long)chosen.Count * EntryBytes;
        using var file = new MemoryStream();
        file.Write(Magic);
        Span<byte> entry = stackalloc byte[EntryBytes];
        BinaryPrimitives.WriteInt32LittleEndian(entry, chosen.Count);
        file.Write(entry[..4]);
        foreach (var (key, bytes) in chosen)
        {
            entry[0] = key.Kind;
            BinaryPrimitives.WriteInt32LittleEndian(entry[1..], key.A);
            BinaryPrimitives.WriteInt32LittleEndian(entry[5..], key.B);
            BinaryPrimitives.WriteInt64LittleEndian(entry[9..], offset);
            BinaryPrimitives.WriteInt64LittleEndian(entry[17..], bytes.Length);
            file.Write(entry);
            offset += bytes.Length;
        }
        foreach (var (_, bytes) in chosen) bytes.WriteTo(file);
        return file.ToArray();
    }

    /// <summary>The records a file holds for partition <paramref name="partition"/> of round <paramref name="round"/> (empty when none).</summary>
    public static byte[] ReadRound(Stream file, int round, int partition) => Read(file, (Round, round, partition));

    /// <summary>The decision a file holds about shard <paramref name="shard"/> (empty when none).</summary>
    public static byte[] ReadShard(Stream file, int shard) => Read(file, (Shard, shard, 0));

    /// <summary>The commit a file holds (empty when none).</summary>
    public static byte[] ReadCommit(Stream file) => Read(file, (Commit, 0, 0));

    /// <summary>The shards a decision file says something about.</summary>
    public static IReadOnlyList<int> Shards(Stream file)
    {
        int count = Header(file);
        var shards = new List<int>();
        Span<byte> entry = stackalloc byte[EntryBytes];
        for (int i = 0; i < count; i++)
        {
            file.ReadExactly(entry);
            if (entry[0] == Shard) shards.Add(BinaryPrimitives.ReadInt32LittleEndian(entry[1..]));
        }
        return shards;
    }

    static int Header(Stream file)
    {
        file.Position = 0;
        Span<byte> head = stackalloc byte[12];
        if (file.Read(head) != 12 || !head[..8].SequenceEqual(Magic)) throw new InvalidDataException("not a corpus routes file (bad magic)");
        int count = BinaryPrimitives.ReadInt32LittleEndian(head[8..]);
        if (count < 0 || Magic.Length + 4 + (long)count * EntryBytes > file.Length) throw new InvalidDataException($"damaged corpus routes file ({count} sections in {file.Length} bytes)");
        return count;
    }

    static byte[] Read(Stream file, (byte Kind, int A, int B) key)
    {
        int count = Header(file);
        Span<byte> entry = stackalloc byte[EntryBytes];
        // Binary search over the sorted table of contents: a decision file can name thousands of shards.
        int lo = 0, hi = count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            file.Position = Magic.Length + 4 + (long)mid * EntryBytes;
            file.ReadExactly(entry);
            var found = (entry[0], BinaryPrimitives.ReadInt32LittleEndian(entry[1..]), BinaryPrimitives.ReadInt32LittleEndian(entry[5..]));
            int c = found.CompareTo(key);
            if (c < 0) lo = mid + 1;
            else if (c > 0) hi = mid - 1;
            else
            {
                long offset = BinaryPrimitives.ReadInt64LittleEndian(entry[9..]), length = BinaryPrimitives.ReadInt64LittleEndian(entry[17..]);
                if (offset < 0 || length < 0 || offset + length > file.Length || length > int.MaxValue) throw new InvalidDataException($"damaged corpus routes file (section at {offset}+{length} of {file.Length} bytes)");
                var bytes = new byte[length];
                file.Position = offset;
                file.ReadExactly(bytes);
                return bytes;
            }
        }
        return [];
    }
}
