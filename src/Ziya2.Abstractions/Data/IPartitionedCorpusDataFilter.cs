namespace Ziya2.Data;

/// <summary>A reduce round of a partitioned corpus step: its name (phases call it <c>decide:&lt;step&gt;@&lt;name&gt;</c>) and how many independent partitions it has.</summary>
/// <param name="Name">A short name: letters, digits, '-'.</param>
/// <param name="Partitions">Partitions of the round, each a separate task on a cluster (1: the round sees everything).</param>
public readonly record struct ReduceRound(string Name, int Partitions);

/// <summary>
/// A corpus filter whose decision splits by key, so that no single task needs to see every document's observation —
/// map → shuffle → reduce through files, as datatrove's deduplication stages. Observing shards route each record to
/// a partition of a round (by a hash of its key); each partition of a round reads what was routed to it, writes its
/// part of the decision (per shard) and routes records on to later rounds; apply reads, per shard, every partition's
/// part. The engine runs each round's partitions as separate tasks and stores every route as a file, so the tasks
/// share only storage. The decision must not depend on how many partitions there are or which finished first.
/// <para>
/// The <see cref="ICorpusDataFilter"/> members are implemented here by running the rounds in one process, so a
/// partitioned filter also works wherever a plain corpus filter does (and a test can drive it through them).
/// </para>
/// </summary>
public interface IPartitionedCorpusDataFilter : ICorpusDataFilter
{
    /// <summary>The rounds after observation, in the order they run; a round reads what observation and earlier rounds routed to it.</summary>
    IReadOnlyList<ReduceRound> Rounds { get; }

    /// <summary>Pass 1: routes what this instance observed to partitions of the rounds (<see cref="CorpusRoutes.ToRound"/> only).</summary>
    void SaveObservations(CorpusRoutes routes);

    /// <summary>
    /// Partition <paramref name="partition"/> of round <paramref name="round"/>: <paramref name="inputs"/> are the
    /// non-empty sections routed to it — from the observing shards in input order, then from earlier rounds' partitions
    /// in order. Writes its decision about documents per shard, what it commits, and records for later rounds.
    /// </summary>
    void Reduce(int round, int partition, IReadOnlyList<byte[]> inputs, CorpusRoutes routes);

    /// <summary>Pass 2: the decision about shard <paramref name="shard"/> — every partition's non-empty part, in round and partition order. May be called for several shards on one instance; each adds to what it knows.</summary>
    void UseDecision(int shard, IReadOnlyList<byte[]> parts);

    /// <summary>After every shard is done: makes partition <paramref name="partition"/> of round <paramref name="round"/>'s commit permanent. Default: nothing.</summary>
    void Commit(int round, int partition, byte[] commit) { }

    /// <summary>Every section routed, in one buffer (<see cref="CorpusRoutes.ToBytes"/>).</summary>
    byte[] ICorpusDataFilter.SaveObservations()
    {
        var routes = new CorpusRoutes();
        SaveObservations(routes);
        return routes.ToBytes();
    }

    /// <summary>Every round, every partition in turn, in this process; the decision is each partition's output, in order.</summary>
    byte[] ICorpusDataFilter.Decide(IReadOnlyList<byte[]> observations)
    {
        var produced = new List<byte[]>(observations);
        var decision = new List<(int Round, int Partition, byte[] File)>();
        for (int r = 0; r < Rounds.Count; r++)
            for (int p = 0; p < Rounds[r].Partitions; p++)
            {
                var inputs = produced.Select(f => CorpusRoutes.ReadRound(new MemoryStream(f), r, p)).Where(b => b.Length > 0).ToList();
                var routes = new CorpusRoutes();
                Reduce(r, p, inputs, routes);
                produced.Add(routes.RoutesToBytes());
                decision.Add((r, p, routes.DecisionToBytes()));
            }
        using var m = new MemoryStream();
        using (var w = new BinaryWriter(m))
        {
            w.Write(decision.Count);
            foreach (var (r, p, file) in decision) { w.Write(r); w.Write(p); w.Write(file.Length); w.Write(file); }
        }
        return m.ToArray();
    }

    /// <summary>Loads every shard's part of a decision made by <see cref="ICorpusDataFilter.Decide"/>.</summary>
    void ICorpusDataFilter.UseDecision(byte[] decision)
    {
        var files = ReadDecision(decision);
        foreach (var shard in files.SelectMany(f => CorpusRoutes.Shards(new MemoryStream(f.File))).Distinct().Order())
            UseDecision(shard, [.. files.Select(f => CorpusRoutes.ReadShard(new MemoryStream(f.File), shard)).Where(b => b.Length > 0)]);
    }

    /// <summary>Commits every partition of a decision made by <see cref="ICorpusDataFilter.Decide"/>.</summary>
    void ICorpusDataFilter.Commit(byte[] decision)
    {
        foreach (var (r, p, file) in ReadDecision(decision))
            if (CorpusRoutes.ReadCommit(new MemoryStream(file)) is { Length: > 0 } commit) Commit(r, p, commit);
    }

    private static List<(int Round, int Partition, byte[] File)> ReadDecision(byte[] decision)
    {
        using var r = new BinaryReader(new MemoryStream(decision));
        var files = new List<(int, int, byte[])>();
        for (int n = r.ReadInt32(), i = 0; i < n; i++) files.Add((r.ReadInt32(), r.ReadInt32(), r.ReadBytes(r.ReadInt32())));
        return files;
    }
}
