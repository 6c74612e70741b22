using Ziya2.Data;

namespace Ziya2.Plugins.Dedup;

/// <summary>
/// Content deduplication in the paper's order (§2.1 CD): URL (Bloom filter over normalised URLs), exact content (Bloom
/// filter over text without punctuation, emoji and whitespace), then near duplicates (64-bit SimHash within
/// <c>hamming</c> bits, banded index). A corpus step: pass 1 hashes every document (24 bytes each); the decision walks
/// them in input order — or best quality bucket first — so the survivor of a cluster is deterministic whatever the
/// parallelism; pass 2 drops the rest (<c>duplicate_url</c>, <c>duplicate_exact</c>, <c>near_duplicate</c>) and writes
/// the attribute <c>simhash</c>. With <c>index</c> set, the filters and the SimHash database persist: a completed run
/// adds its kept documents, and later runs drop duplicates of them.
/// </summary>
public sealed class DedupFilter(DedupOptions o) : ICorpusDataFilter
{
    const byte ReasonUrl = 1, ReasonExact = 2, ReasonNear = 3;
    readonly record struct Observation(int Shard, long Record, ulong Url, ulong Exact, ulong Sim, byte Rank);

    readonly List<Observation> _observed = [];
    Dictionary<(int, long), byte> _drops = [];

    string? IndexFile(string name) => o.Index.Length == 0 ? null : Path.Combine(Path.GetFullPath(o.Index), name);

    static byte Rank(Document d) => (d.Attributes.TryGetValue("quality_bucket", out var b) ? b?.ToString() : null) switch { "high" => 0, "medium" => 1, _ => 2 };

    public void Observe(Document d, DocumentPosition p) => _observed.Add(new Observation(p.Shard, p.Record,
        o.Url && Normalization.Url(d.Url) is { } url ? Normalization.Hash(url) : 0,
        o.Exact ? Normalization.Hash(Normalization.Text(d.Text)) : 0,
        o.Near ? SimHash.Compute(d.Text, o.Shingle) : 0,
        Rank(d)));

    public byte[] SaveObservations()
    {
        using var m = new MemoryStream();
        using (var w = new BinaryWriter(m))
        {
            w.Write(_observed.Count);
            foreach (var x in _observed) { w.Write(x.Shard); w.Write(x.Record); w.Write(x.Url); w.Write(x.Exact); w.Write(x.Sim); w.Write(x.Rank); }
        }
        return m.ToArray();
    }

    public byte[] Decide(IReadOnlyList<byte[]> observations)
    {
        var all = new List<Observation>();
        foreach (var bytes in observations)
        {
            using var r = new BinaryReader(new MemoryStream(bytes));
            for (int n = r.ReadInt32(), i = 0; i < n; i++)
                all.Add(new Observation(r.ReadInt32(), r.ReadInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadByte()));
        }
        if (o.Keep == KeepPolicy.BestBucket) all = all.OrderBy(x => x.Rank).ToList();   // stable: input order within a bucket

        var urls = o.Url ? BloomFilter.LoadOrCreate(IndexFile("url.bloom"), o.ExpectedDocuments, o.FalsePositiveRate) : null;
        var texts = o.Exact ? BloomFilter.LoadOrCreate(IndexFile("exact.bloom"), o.ExpectedDocuments, o.FalsePositiveRate) : null;
        using var near = o.Near ? new SimHashIndex(o.Hamming, o.BandCount, IndexFile("simhash.db")) : null;
        var drops = new List<(int Shard, long Record, byte Reason)>();
        List<ulong> addUrl = [], addExact = [], addSim = [];
        foreach (var x in all)
        {
            if (urls is not null && x.Url != 0 && urls.Contains(x.Url)) { drops.Add((x.Shard, x.Record, ReasonUrl)); continue; }
            if (texts is not null && texts.Contains(x.Exact)) { drops.Add((x.Shard, x.Record, ReasonExact)); continue; }
            if (near is not null && near.ContainsNear(x.Sim)) { drops.Add((x.Shard, x.Record, ReasonNear)); continue; }
            if (urls is not null && x.Url != 0) { urls.Add(x.Url); addUrl.Add(x.Url); }
            if (texts is not null) { texts.Add(x.Exact); addExact.Add(x.Exact); }
            if (near is not null) { near.Add(x.Sim); addSim.Add(x.Sim); }
        }

        using var m = new MemoryStream();
        using (var w = new BinaryWriter(m))
        {
            w.Write(drops.Count);
            foreach (var (s, rec, reason) in drops.OrderBy(d => d.Shard).ThenBy(d => d.Record)) { w.Write(s); w.Write(rec); w.Write(reason); }
            foreach (var list in new[] { addUrl, addExact, addSim }) { w.Write(list.Count); foreach (var h in list) w.Write(h); }
        }
        return m.ToArray();
    }

    public void UseDecision(byte[] decision)
    {
        using var r = new BinaryReader(new MemoryStream(decision));
        int n = r.ReadInt32();
        _drops = new Dictionary<(int, long), byte>(n);
        for (int i = 0; i < n; i++) _drops[(r.ReadInt32(), r.ReadInt64())] = r.ReadByte();
    }

    public FilterDecision Apply(Document document, DocumentPosition position)
    {
        if (_drops.TryGetValue((position.Shard, position.Record), out var reason))
            return FilterDecision.Drop(reason switch { ReasonUrl => "duplicate_url", ReasonExact => "duplicate_exact", _ => "near_duplicate" });
        return o.Near ? FilterDecision.Rewrite(document.WithAttribute("simhash", SimHash.Compute(document.Text, o.Shingle).ToString("x16"))) : FilterDecision.Keep();
    }

    /// <summary>
    /// Adds the run's kept documents to the persistent index: each Bloom filter replaced atomically, the SimHash rows in
    /// one transaction, last. A commit interrupted half-way is repeated by the next run: adding to a Bloom filter twice
    /// changes nothing, and the SimHash rows were either all written (and the marker is what is missing) or none.
    /// </summary>
    public void Commit(byte[] decision)
    {
        if (o.Index.Length == 0) return;
        Directory.CreateDirectory(Path.GetFullPath(o.Index));
        using var r = new BinaryReader(new MemoryStream(decision));
        int n = r.ReadInt32();
        r.BaseStream.Seek(n * (4 + 8 + 1), SeekOrigin.Current);
        var lists = Enumerable.Range(0, 3).Select(_ => { var c = r.ReadInt32(); var l = new List<ulong>(c); for (int i = 0; i < c; i++) l.Add(r.ReadUInt64()); return l; }).ToArray();
        if (o.Url) Save(IndexFile("url.bloom")!, lists[0]);
        if (o.Exact) Save(IndexFile("exact.bloom")!, lists[1]);
        if (o.Near && lists[2].Count > 0) SimHashIndex.Persist(IndexFile("simhash.db")!, o.Hamming, o.BandCount, lists[2]);

        void Save(string path, List<ulong> items)
        {
            var filter = BloomFilter.LoadOrCreate(path, o.ExpectedDocuments, o.FalsePositiveRate);
            foreach (var h in items) filter.Add(h);
            filter.Save(path);
        }
    }
}
