using Ziya2.Data;

namespace Ziya2.DataFactory.Pipeline;

/// <summary>
/// The numbers a <see cref="ICarryingCorpusDataFilter"/> returned in pass 1, one file per shard beside its observations:
/// (record, value) pairs in record order, 16 bytes each. Written before the observation file, whose presence means the
/// shard was observed, so a carry file is complete whenever that one exists.
/// </summary>
static class CarriedValues
{
    public static string PathFor(string observationPath) => observationPath + ".carry";

    public static void Write(string path, List<(long Record, double Value)> values)
    {
        var bytes = new byte[values.Count * 16];
        for (int k = 0; k < values.Count; k++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(k * 16), values[k].Record);
            BitConverter.TryWriteBytes(bytes.AsSpan(k * 16 + 8), values[k].Value);
        }
        AtomicFile.Write(path, bytes);
    }

    /// <summary>The values by record, or null when there is no usable file (the filter then decides alone).</summary>
    public static Dictionary<long, double>? Read(string path)
    {
        if (!File.Exists(path)) return null;
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length % 16 != 0) return null;
        var values = new Dictionary<long, double>(bytes.Length / 16);
        for (int k = 0; k < bytes.Length; k += 16) values[BitConverter.ToInt64(bytes, k)] = BitConverter.ToDouble(bytes, k + 8);
        return values;
    }
}

/// <summary>A carrying corpus filter in pass 2 with its shard's numbers: each document gets its own, or is decided afresh.</summary>
sealed class CarriedCorpusFilter(ICarryingCorpusDataFilter inner, Dictionary<long, double> values) : ICorpusDataFilter, IDisposable
{
    public FilterDecision Apply(Document document, DocumentPosition position) =>
        values.TryGetValue(position.Record, out var carried) ? inner.Apply(document, position, carried) : inner.Apply(document, position);

    public void Observe(Document document, DocumentPosition position) => inner.Observe(document, position);
    public byte[] SaveObservations() => inner.SaveObservations();
    public byte[] Decide(IReadOnlyList<byte[]> observations) => inner.Decide(observations);
    public void UseDecision(byte[] decision) => inner.UseDecision(decision);
    public void Commit(byte[] decision) => inner.Commit(decision);
    public void Dispose() => (inner as IDisposable)?.Dispose();
}
