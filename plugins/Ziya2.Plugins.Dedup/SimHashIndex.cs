using Microsoft.Data.Sqlite;

namespace Ziya2.Plugins.Dedup;

/// <summary>
/// Finds stored SimHashes within a Hamming distance without comparing against all of them (Manku et al. 2007): the 64
/// bits are cut into B bands; pairs within h bits differ in at most h bands, so they agree on some choice of B−h bands.
/// One table per such choice, keyed by those bands' bits; a query looks up C(B, B−h) keys and checks only the
/// candidates found. This run's hashes are held in memory (about 40 bytes per hash per table); earlier runs' hashes
/// are in an SQLite database (the same keys, B-tree indexed), queried per lookup, so they cost disk, not memory.
/// </summary>
sealed class SimHashIndex : IDisposable
{
    readonly int _hamming;
    readonly (int Start, int Width)[] _bands;
    readonly int[][] _tables;
    readonly Dictionary<ulong, List<ulong>>[] _memory;
    readonly SqliteConnection? _db;
    readonly SqliteCommand? _query;

    public SimHashIndex(int hamming, int bands, string? databasePath)
    {
        _hamming = hamming;
        _bands = Enumerable.Range(0, bands).Select(i => (Start: i * 64 / bands, Width: (i + 1) * 64 / bands - i * 64 / bands)).ToArray();
        _tables = Combinations(bands, bands - hamming).ToArray();
        _memory = _tables.Select(_ => new Dictionary<ulong, List<ulong>>()).ToArray();
        if (databasePath is not null && File.Exists(databasePath))
        {
            _db = Open(databasePath, SqliteOpenMode.ReadOnly, hamming, bands);
            _query = _db.CreateCommand();
            _query.CommandText = "SELECT h FROM simhash_keys WHERE t = $t AND k = $k";
            _query.Parameters.Add("$t", SqliteType.Integer);
            _query.Parameters.Add("$k", SqliteType.Integer);
        }
    }

    public int Tables => _tables.Length;

    ulong Key(ulong hash, int table)
    {
        ulong key = 0;
        foreach (var b in _tables[table])
        {
            var (start, width) = _bands[b];
            key = (key << width) | ((hash >> start) & (width == 64 ? ulong.MaxValue : (1UL << width) - 1));
        }
        return key;
    }

    /// <summary>Whether a stored hash lies within the Hamming distance of <paramref name="hash"/>.</summary>
    public bool ContainsNear(ulong hash)
    {
        for (int t = 0; t < _tables.Length; t++)
        {
            var key = Key(hash, t);
            if (_memory[t].TryGetValue(key, out var list) && list.Any(c => SimHash.Distance(c, hash) <= _hamming)) return true;
            if (_query is not null)
            {
                _query.Parameters["$t"].Value = t;
                _query.Parameters["$k"].Value = unchecked((long)key);
                using var reader = _query.ExecuteReader();
                while (reader.Read())
                    if (SimHash.Distance(unchecked((ulong)reader.GetInt64(0)), hash) <= _hamming) return true;
            }
        }
        return false;
    }

    /// <summary>Adds a hash to this run's in-memory tables.</summary>
    public void Add(ulong hash)
    {
        for (int t = 0; t < _tables.Length; t++)
        {
            var key = Key(hash, t);
            if (!_memory[t].TryGetValue(key, out var list)) _memory[t][key] = list = [];
            list.Add(hash);
        }
    }

    /// <summary>Appends hashes to the database in one transaction (all or nothing), creating it if needed.</summary>
    public static void Persist(string databasePath, int hamming, int bands, IReadOnlyCollection<ulong> hashes)
    {
        using var db = Open(databasePath, SqliteOpenMode.ReadWriteCreate, hamming, bands);
        var index = new SimHashIndex(hamming, bands, null);
        using var tx = db.BeginTransaction();
        using var insert = db.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = "INSERT INTO simhash_keys(t, k, h) VALUES ($t, $k, $h)";
        var (pt, pk, ph) = (insert.Parameters.Add("$t", SqliteType.Integer), insert.Parameters.Add("$k", SqliteType.Integer), insert.Parameters.Add("$h", SqliteType.Integer));
        foreach (var h in hashes)
            for (int t = 0; t < index._tables.Length; t++)
            {
                pt.Value = t; pk.Value = unchecked((long)index.Key(h, t)); ph.Value = unchecked((long)h);
                insert.ExecuteNonQuery();
            }
        tx.Commit();
    }

    static SqliteConnection Open(string path, SqliteOpenMode mode, int hamming, int bands)
    {
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = mode, Pooling = false }.ToString());
        db.Open();
        using var cmd = db.CreateCommand();
        if (mode != SqliteOpenMode.ReadOnly)
        {
            cmd.CommandText = """
                CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS simhash_keys(t INTEGER NOT NULL, k INTEGER NOT NULL, h INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS simhash_keys_tk ON simhash_keys(t, k);
                INSERT OR IGNORE INTO meta(key, value) VALUES ('hamming', $h), ('bands', $b);
                """;
            cmd.Parameters.AddWithValue("$h", hamming);
            cmd.Parameters.AddWithValue("$b", bands);
            cmd.ExecuteNonQuery();
            cmd.Parameters.Clear();
        }
        cmd.CommandText = "SELECT key, value FROM meta";
        var meta = new Dictionary<string, long>();
        try
        {
            using var r = cmd.ExecuteReader();
            while (r.Read()) meta[r.GetString(0)] = r.GetInt64(1);
        }
        catch (SqliteException e) { db.Dispose(); throw new InvalidDataException($"{path}: not a SimHash index ({e.Message})"); }
        if (meta.GetValueOrDefault("hamming", -1) != hamming || meta.GetValueOrDefault("bands", -1) != bands)
        {
            db.Dispose();
            throw new InvalidDataException($"{path}: index built with hamming={meta.GetValueOrDefault("hamming")}, bands={meta.GetValueOrDefault("bands")}; " +
                                           $"this run asks for hamming={hamming}, bands={bands} — use the same settings or a new index directory");
        }
        return db;
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

    public void Dispose() { _query?.Dispose(); _db?.Dispose(); }
}
