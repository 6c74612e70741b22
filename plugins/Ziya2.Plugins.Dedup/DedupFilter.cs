using System.Buffers.Binary;
using Ziya2.Data;

namespace Ziya2.Plugins.Dedup;

/// <summary>
/// Content deduplication in the paper's order (§2.1 CD): URL (normalised URLs), exact content (text without
/// punctuation, emoji and whitespace), then near duplicates (64-bit SimHash within <c>hamming</c> bits). A partitioned
/// corpus step, as datatrove's dedup stages, so no task needs every document's hashes:
/// <list type="number">
/// <item><c>url</c>: partition = hash of the URL; the first document with a URL (in input order, or best
/// <c>quality_bucket</c> first) survives, the rest are <c>duplicate_url</c>; survivors go on to</item>
/// <item><c>exact</c>: partition = hash of the normalised text; the first survives, the rest are
/// <c>duplicate_exact</c>; survivors go on, once per SimHash table, to</item>
/// <item><c>near</c>: partition = hash of a (table, key) bucket; documents in a bucket within <c>hamming</c> bits are
/// linked (a spanning forest of the bucket's near pairs), and those near a hash in the persistent index are marked;</item>
/// <item><c>cluster</c> (one task, over links only): linked documents form clusters; the first of each survives, the
/// rest are <c>near_duplicate</c> — all of it when a member is near the index (its cluster already has a survivor).</item>
/// </list>
/// Each stage sees only the previous stage's survivors, so a document is never dropped for matching one that was itself
/// dropped; the decision does not depend on <c>partitions</c>. Kept documents get the attribute <c>simhash</c>. With
/// <c>index</c> set, each partition's URLs, texts and SimHashes persist once the run completes (one set of files per
/// partition), and later runs drop duplicates of them. The SimHash computed in pass 1 is carried to pass 2's attribute.
/// </summary>
public sealed class DedupFilter(DedupOptions o) : IPartitionedCorpusDataFilter, ICarryingCorpusDataFilter
{
    const byte ReasonUrl = 1, ReasonExact = 2, ReasonNear = 3;
    const byte Hit = 0, Link = 1;
    enum Stage { Url, Exact, Near, Cluster }

    /// <summary>A document's place (its rank first: 0 under keep = first, its bucket's under best_bucket) and its hashes.</summary>
    readonly record struct Doc(int Shard, long Record, byte Rank, ulong Url, ulong Exact, ulong Sim)
    {
        public const int Bytes = 4 + 8 + 1 + 8 + 8 + 8;
        public (byte, int, long) Order => (Rank, Shard, Record);
    }

    readonly List<Doc> _observed = [];
    readonly Dictionary<(int, long), byte> _drops = [];
    readonly SimHashTables _tables = new(o.Hamming, o.BandCount);
    Stage[]? _stages;

    Stage[] Stages => _stages ??= [.. new[] { (o.Url, Stage.Url), (o.Exact, Stage.Exact), (o.Near, Stage.Near), (o.Near, Stage.Cluster) }.Where(s => s.Item1).Select(s => s.Item2)];

    DedupIndex? Index => o.Index.Length == 0 ? null : new DedupIndex(o.Index, o.Partitions);

    public IReadOnlyList<ReduceRound> Rounds => [.. Stages.Select(s => new ReduceRound(s.ToString().ToLowerInvariant(), s == Stage.Cluster ? 1 : o.Partitions))];

    byte Rank(Document d) => o.Keep == KeepPolicy.First ? (byte)0
        : (d.Attributes.TryGetValue("quality_bucket", out var b) ? b?.ToString() : null) switch { "high" => (byte)0, "medium" => (byte)1, _ => (byte)2 };

    public void Observe(Document d, DocumentPosition p) => ObserveAndCarry(d, p);

    /// <summary>Observes, carrying the SimHash (its 64 bits, as the double they spell) for the kept document's attribute.</summary>
    public double ObserveAndCarry(Document d, DocumentPosition p)
    {
        var doc = new Doc(p.Shard, p.Record, Rank(d),
            o.Url && Normalization.Url(d.Url) is { } url ? Normalization.Hash(url) : 0,
            o.Exact ? Normalization.Hash(Normalization.Text(d.Text)) : 0,
            o.Near ? SimHash.Compute(d.Text, o.Shingle) : 0);
        _observed.Add(doc);
        return BitConverter.UInt64BitsToDouble(doc.Sim);
    }

    public void SaveObservations(CorpusRoutes routes)
    {
        foreach (var d in _observed) Forward(routes, d, after: -1);
    }

    /// <summary>Sends a survivor of stage <paramref name="after"/> (−1: observation) to the partition of the next stage that applies to it.</summary>
    void Forward(CorpusRoutes routes, Doc d, int after)
    {
        for (int i = after + 1; i < Stages.Length; i++)
            switch (Stages[i])
            {
                case Stage.Url when d.Url == 0: continue;   // no URL is not a duplicate URL
                case Stage.Url: Write(routes.ToRound(i, Partition(d.Url)), d); return;
                case Stage.Exact: Write(routes.ToRound(i, Partition(d.Exact)), d); return;
                case Stage.Near:
                    for (int t = 0; t < _tables.Count; t++)
                    {
                        var s = routes.ToRound(i, Partition(Bucket(t, _tables.Key(d.Sim, t))));
                        Write(s, d);
                        s.WriteByte((byte)t);
                    }
                    return;
            }
    }

    // Salted so that a partition's keys are not also aligned with the Bloom filter's own probes.
    int Partition(ulong key) => (int)(Mix(key ^ 0x9E3779B97F4A7C15UL) % (ulong)o.Partitions);
    static ulong Bucket(int table, ulong key) => Mix(key) + (ulong)table;

    static ulong Mix(ulong x)
    {
        x ^= x >> 30; x *= 0xBF58476D1CE4E5B9UL; x ^= x >> 27; x *= 0x94D049BB133111EBUL; x ^= x >> 31;
        return x;
    }

    public void Reduce(int round, int partition, IReadOnlyList<byte[]> inputs, CorpusRoutes routes)
    {
        switch (Stages[round])
        {
            case Stage.Url: FirstOfEachKey(round, partition, inputs, routes, d => d.Url, ReasonUrl, Index?.Url(partition)); break;
            case Stage.Exact: FirstOfEachKey(round, partition, inputs, routes, d => d.Exact, ReasonExact, Index?.Exact(partition)); break;
            case Stage.Near: LinkNearDuplicates(round, partition, inputs, routes); break;
            case Stage.Cluster: Cluster(inputs, routes); break;
        }
    }

    /// <summary>URL and exact stages: the first document of each key survives, unless the index has the key.</summary>
    void FirstOfEachKey(int round, int partition, IReadOnlyList<byte[]> inputs, CorpusRoutes routes, Func<Doc, ulong> keyOf, byte reason, string? indexFile)
    {
        Index?.Check();
        var docs = new List<Doc>();
        foreach (var input in inputs) for (int at = 0; at < input.Length; at += Doc.Bytes) docs.Add(ReadDoc(input, at));
        docs.Sort((a, b) => a.Order.CompareTo(b.Order));
        var index = indexFile is not null && File.Exists(indexFile) ? BloomFilter.Load(indexFile) : null;
        var seen = new HashSet<ulong>();
        var drops = new List<(int Shard, long Record, byte Reason)>();
        var added = new List<ulong>();
        foreach (var d in docs)
        {
            var key = keyOf(d);
            if (!seen.Add(key) || index?.Contains(key) == true) { drops.Add((d.Shard, d.Record, reason)); continue; }
            added.Add(key);
            Forward(routes, d, round);
        }
        WriteDrops(routes, drops);
        if (indexFile is not null && added.Count > 0)
        {
            var commit = routes.ToCommit();
            Span<byte> b = stackalloc byte[8];
            foreach (var key in added) { BinaryPrimitives.WriteUInt64LittleEndian(b, key); commit.Write(b); }
        }
    }

    /// <summary>
    /// Near stage, per (table, key) bucket: marks documents near a hash of the index, and links the bucket's documents
    /// within <c>hamming</c> bits — a spanning forest is enough, since clusters are what matters, and keeps the links
    /// per bucket below its size.
    /// </summary>
    void LinkNearDuplicates(int round, int partition, IReadOnlyList<byte[]> inputs, CorpusRoutes routes)
    {
        var index = Index;
        index?.Check();
        var buckets = new Dictionary<(int Table, ulong Key), List<Doc>>();
        foreach (var input in inputs)
            for (int at = 0; at < input.Length; at += Doc.Bytes + 1)
            {
                var d = ReadDoc(input, at);
                int t = input[at + Doc.Bytes];
                var key = (t, _tables.Key(d.Sim, t));
                if (!buckets.TryGetValue(key, out var list)) buckets[key] = list = [];
                list.Add(d);
            }
        using var store = SimHashStore.OpenIfExists(index?.SimHash(partition), o.Hamming, o.BandCount);
        var links = routes.ToRound(round + 1, 0);
        var commit = new List<(int, ulong, ulong)>();
        foreach (var ((t, key), members) in buckets.OrderBy(b => b.Key))
        {
            members.Sort((a, b) => a.Order.CompareTo(b.Order));
            var stored = store?.Bucket(t, key) ?? [];
            var parent = Enumerable.Range(0, members.Count).ToArray();
            int Find(int x) { while (parent[x] != x) x = parent[x] = parent[parent[x]]; return x; }
            for (int j = 0; j < members.Count; j++)
            {
                if (stored.Any(h => SimHash.Distance(h, members[j].Sim) <= o.Hamming)) { links.WriteByte(Hit); Write(links, members[j]); }
                else commit.Add((t, key, members[j].Sim));
                for (int i = 0; i < j; i++)
                {
                    if (SimHash.Distance(members[i].Sim, members[j].Sim) > o.Hamming || Find(i) == Find(j)) continue;
                    parent[Find(j)] = Find(i);
                    links.WriteByte(Link); Write(links, members[i]); Write(links, members[j]);
                }
            }
        }
        if (index is not null && commit.Count > 0)
        {
            var s = routes.ToCommit();
            Span<byte> b = stackalloc byte[4 + 8 + 8];
            foreach (var (t, key, sim) in commit.Distinct())
            {
                BinaryPrimitives.WriteInt32LittleEndian(b, t); BinaryPrimitives.WriteUInt64LittleEndian(b[4..], key); BinaryPrimitives.WriteUInt64LittleEndian(b[12..], sim);
                s.Write(b);
            }
        }
    }

    /// <summary>Cluster stage: connected components of the links; the first member survives unless a member is near the index.</summary>
    void Cluster(IReadOnlyList<byte[]> inputs, CorpusRoutes routes)
    {
        var ids = new Dictionary<(int, long), int>();
        var docs = new List<Doc>();
        var parent = new List<int>();
        var hit = new HashSet<int>();
        int Id(Doc d)
        {
            if (ids.TryGetValue((d.Shard, d.Record), out var id)) return id;
            ids[(d.Shard, d.Record)] = id = docs.Count;
            docs.Add(d); parent.Add(id);
            return id;
        }
        int Find(int x) { while (parent[x] != x) x = parent[x] = parent[parent[x]]; return x; }
        foreach (var input in inputs)
            for (int at = 0; at < input.Length;)
            {
                var kind = input[at++];
                var a = Id(ReadDoc(input, at)); at += Doc.Bytes;
                if (kind == Hit) { hit.Add(a); continue; }
                var b = Id(ReadDoc(input, at)); at += Doc.Bytes;
                if (Find(a) != Find(b)) parent[Find(b)] = Find(a);
            }
        var drops = new List<(int, long, byte)>();
        foreach (var members in Enumerable.Range(0, docs.Count).GroupBy(Find))
        {
            bool nearIndex = members.Any(hit.Contains);
            var first = members.MinBy(m => docs[m].Order);
            foreach (var m in members)
                if (nearIndex || m != first) drops.Add((docs[m].Shard, docs[m].Record, ReasonNear));
        }
        WriteDrops(routes, drops);
    }

    static void WriteDrops(CorpusRoutes routes, List<(int Shard, long Record, byte Reason)> drops)
    {
        Span<byte> b = stackalloc byte[9];
        foreach (var (shard, record, reason) in drops.OrderBy(d => d.Shard).ThenBy(d => d.Record))
        {
            BinaryPrimitives.WriteInt64LittleEndian(b, record);
            b[8] = reason;
            routes.ToShard(shard).Write(b);
        }
    }

    static void Write(Stream s, Doc d)
    {
        Span<byte> b = stackalloc byte[Doc.Bytes];
        BinaryPrimitives.WriteInt32LittleEndian(b, d.Shard);
        BinaryPrimitives.WriteInt64LittleEndian(b[4..], d.Record);
        b[12] = d.Rank;
        BinaryPrimitives.WriteUInt64LittleEndian(b[13..], d.Url);
        BinaryPrimitives.WriteUInt64LittleEndian(b[21..], d.Exact);
        BinaryPrimitives.WriteUInt64LittleEndian(b[29..], d.Sim);
        s.Write(b);
    }

    static Doc ReadDoc(byte[] bytes, int at)
    {
        var b = bytes.AsSpan(at, Doc.Bytes);
        return new Doc(BinaryPrimitives.ReadInt32LittleEndian(b), BinaryPrimitives.ReadInt64LittleEndian(b[4..]), b[12],
            BinaryPrimitives.ReadUInt64LittleEndian(b[13..]), BinaryPrimitives.ReadUInt64LittleEndian(b[21..]), BinaryPrimitives.ReadUInt64LittleEndian(b[29..]));
    }

    public void UseDecision(int shard, IReadOnlyList<byte[]> parts)
    {
        foreach (var part in parts)
            for (int at = 0; at + 9 <= part.Length; at += 9)
                _drops[(shard, BinaryPrimitives.ReadInt64LittleEndian(part.AsSpan(at)))] = part[at + 8];
    }

    public FilterDecision Apply(Document document, DocumentPosition position) => Decide(document, position, carriedSimHash: null);

    public FilterDecision Apply(Document document, DocumentPosition position, double carried) =>
        Decide(document, position, BitConverter.DoubleToUInt64Bits(carried));

    /// <summary>Dropped as decided, or kept with its SimHash: the one pass 1 carried, else computed now.</summary>
    FilterDecision Decide(Document document, DocumentPosition position, ulong? carriedSimHash)
    {
        if (_drops.TryGetValue((position.Shard, position.Record), out var reason))
            return FilterDecision.Drop(reason switch { ReasonUrl => "duplicate_url", ReasonExact => "duplicate_exact", _ => "near_duplicate" });
        if (!o.Near) return FilterDecision.Keep();
        var simHash = carriedSimHash ?? SimHash.Compute(document.Text, o.Shingle);
        return FilterDecision.Rewrite(document.WithAttribute("simhash", simHash.ToString("x16")));
    }

    /// <summary>
    /// Adds a partition's new keys to its part of the persistent index: a Bloom filter replaced atomically, or the
    /// SimHash rows in one transaction. The engine commits each partition once (a marker records it), so a finish
    /// interrupted half-way does not add a partition's rows twice; adding to a Bloom filter twice changes nothing.
    /// </summary>
    public void Commit(int round, int partition, byte[] commit)
    {
        var index = Index ?? throw new InvalidOperationException("nothing to commit without an index directory");
        index.Check();
        Directory.CreateDirectory(index.Directory);
        switch (Stages[round])
        {
            case Stage.Url: AddToBloom(index.Url(partition)); break;
            case Stage.Exact: AddToBloom(index.Exact(partition)); break;
            case Stage.Near:
                SimHashStore.Persist(index.SimHash(partition), o.Hamming, o.BandCount, Enumerable.Range(0, commit.Length / 20).Select(i =>
                    (BinaryPrimitives.ReadInt32LittleEndian(commit.AsSpan(i * 20)), BinaryPrimitives.ReadUInt64LittleEndian(commit.AsSpan(i * 20 + 4)),
                     BinaryPrimitives.ReadUInt64LittleEndian(commit.AsSpan(i * 20 + 12)))));
                break;
        }

        void AddToBloom(string path)
        {
            var filter = BloomFilter.LoadOrCreate(path, (o.ExpectedDocuments + o.Partitions - 1) / o.Partitions, o.FalsePositiveRate);
            for (int at = 0; at + 8 <= commit.Length; at += 8) filter.Add(BinaryPrimitives.ReadUInt64LittleEndian(commit.AsSpan(at)));
            filter.Save(path);
        }
    }
}
