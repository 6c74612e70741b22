using Microsoft.Data.Sqlite;

namespace Ziya2.Plugins.Dedup;

/// <summary>
/// Earlier runs' SimHashes in an SQLite database — rows (table, key, hash) of <see cref="SimHashTables"/>, B-tree indexed
/// by (table, key) — so a lookup costs disk, not memory. A partitioned index has one database per partition, holding
/// the buckets that partition owns. The database remembers hamming and bands and refuses other settings.
/// </summary>
sealed class SimHashStore : IDisposable
{
    readonly SqliteConnection _db;
    readonly SqliteCommand _query;

    SimHashStore(SqliteConnection db)
    {
        _db = db;
        _query = _db.CreateCommand();
        _query.CommandText = "SELECT h FROM simhash_keys WHERE t = $t AND k = $k";
        _query.Parameters.Add("$t", SqliteType.Integer);
        _query.Parameters.Add("$k", SqliteType.Integer);
    }

    /// <summary>The database at <paramref name="path"/> to read, or null when there is none yet.</summary>
    public static SimHashStore? OpenIfExists(string? path, int hamming, int bands) =>
        path is not null && File.Exists(path) ? new SimHashStore(Open(path, SqliteOpenMode.ReadOnly, hamming, bands)) : null;

    /// <summary>The stored hashes in bucket (<paramref name="table"/>, <paramref name="key"/>).</summary>
    public List<ulong> Bucket(int table, ulong key)
    {
        _query.Parameters["$t"].Value = table;
        _query.Parameters["$k"].Value = unchecked((long)key);
        var hashes = new List<ulong>();
        using var reader = _query.ExecuteReader();
        while (reader.Read()) hashes.Add(unchecked((ulong)reader.GetInt64(0)));
        return hashes;
    }

    /// <summary>Appends rows to the database in one transaction (all or nothing), creating it if needed.</summary>
    public static void Persist(string path, int hamming, int bands, IEnumerable<(int Table, ulong Key, ulong Hash)> rows)
    {
        using var db = Open(path, SqliteOpenMode.ReadWriteCreate, hamming, bands);
        using var tx = db.BeginTransaction();
        using var insert = db.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = "INSERT INTO simhash_keys(t, k, h) VALUES ($t, $k, $h)";
        var (pt, pk, ph) = (insert.Parameters.Add("$t", SqliteType.Integer), insert.Parameters.Add("$k", SqliteType.Integer), insert.Parameters.Add("$h", SqliteType.Integer));
        foreach (var (t, k, h) in rows)
        {
            pt.Value = t; pk.Value = unchecked((long)k); ph.Value = unchecked((long)h);
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

    public void Dispose() { _query.Dispose(); _db.Dispose(); }
}
