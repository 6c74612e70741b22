namespace Ziya2.Plugins.Dedup;

/// <summary>
/// Finds SimHashes within a Hamming distance without comparing against all of them (Manku et al. 2007): the 64 bits
/// are cut into B bands; pairs within h bits differ in at most h bands, so they agree on some choice of B−h bands.
/// One table per such choice, keyed by those bands' bits: two hashes within h bits share the key of at least one
/// table, so only hashes sharing a (table, key) bucket need comparing — and a bucket is what a reduce partition owns.
/// </summary>
sealed class SimHashTables
{
    readonly (int Start, int Width)[] _bands;
    readonly int[][] _tables;

    public SimHashTables(int hamming, int bands)
    {
        Hamming = hamming;
        _bands = Enumerable.Range(0, bands).Select(i => (Start: i * 64 / bands, Width: (i + 1) * 64 / bands - i * 64 / bands)).ToArray();
        _tables = Combinations(bands, bands - hamming).ToArray();
    }

    public int Hamming { get; }

    public int Count => _tables.Length;

    /// <summary>The bits of <paramref name="hash"/> that table <paramref name="table"/> is keyed by.</summary>
    public ulong Key(ulong hash, int table)
    {
        ulong key = 0;
        foreach (var b in _tables[table])
        {
            var (start, width) = _bands[b];
            key = (key << width) | ((hash >> start) & (width == 64 ? ulong.MaxValue : (1UL << width) - 1));
        }
        return key;
    }

    static IEnumerable<int[]> Combinations(int n, int k)
    {
        var c = Enumerable.Range(0, k).ToArray();
        while (true)
        {
            yield return (int[])c.Clone();
            int i = k - 1;
            while (i >= 0 && c[i] == n - k + i) i--;
            if (i < 0) yield break;
            c[i]++;
            for (int j = i + 1; j < k; j++) c[j] = c[j - 1] + 1;
        }
    }
}
