using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ziya2.Kernel.Hosting;

/// <summary>
/// The folder a run writes into: <c>config.toml</c> (resolved), <c>run.json</c> (recipe hash, fingerprint, status),
/// <c>logs/</c>, <c>metrics.jsonl</c>. Re-running the same invocation in it resumes; a different recipe or config
/// is refused unless forced, so results are never mixed.
/// </summary>
public sealed class RunDirectory
{
    RunDirectory(string path, string fingerprint) { Path = path; Fingerprint = fingerprint; }

    public string Path { get; }
    public string Fingerprint { get; }
    public string RunFile => System.IO.Path.Combine(Path, "run.json");
    public string LogFile => System.IO.Path.Combine(Path, "logs", "ziya2.log");

    /// <summary>The log of rank <paramref name="rank"/> of a data-parallel job (rank 0's is <see cref="LogFile"/>).</summary>
    public string RankLogFile(int rank) => rank == 0 ? LogFile : System.IO.Path.Combine(Path, "logs", $"ziya2.rank-{rank:D5}.log");
    public string MetricsFile => System.IO.Path.Combine(Path, "metrics.jsonl");

    /// <summary>Default location: <c>runs/&lt;recipe&gt;/&lt;UTC timestamp&gt;</c> under the working directory.</summary>
    public static string DefaultFor(string recipePath, IReadOnlyList<string>? configFiles = null) =>
        System.IO.Path.Combine("runs", RunName(recipePath, configFiles), DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// The recipe's name, followed by its first config's when they differ: one recipe runs at every scale, so
    /// <c>ziya2.csx -c tiny.toml</c> and <c>-c ziya2-13b.toml</c> keep their runs apart (<c>runs/ziya2-tiny/…</c>).
    /// </summary>
    public static string RunName(string recipePath, IReadOnlyList<string>? configFiles = null)
    {
        var recipe = System.IO.Path.GetFileNameWithoutExtension(recipePath);
        var config = configFiles is { Count: > 0 } ? System.IO.Path.GetFileNameWithoutExtension(configFiles[0]) : null;
        return config is null || config == recipe ? recipe : $"{recipe}-{config}";
    }

    /// <summary>
    /// The directory <c>--resume</c> continues: <paramref name="explicitPath"/> when given (it must hold a run), else the
    /// newest <c>runs/&lt;recipe&gt;[-&lt;config&gt;]/*</c> that holds one. Throws <see cref="RunDirectoryException"/> when there is none.
    /// </summary>
    public static string ForResume(string recipePath, string? explicitPath, IReadOnlyList<string>? configFiles = null)
    {
        if (explicitPath is not null)
        {
            if (!File.Exists(System.IO.Path.Combine(explicitPath, "run.json")))
                throw new RunDirectoryException($"--resume: {System.IO.Path.GetFullPath(explicitPath)} holds no run (no run.json); drop --resume to start one there");
            return explicitPath;
        }
        var parent = System.IO.Path.GetDirectoryName(DefaultFor(recipePath, configFiles))!;
        var latest = Directory.Exists(parent)
            ? Directory.EnumerateDirectories(parent).Where(d => File.Exists(System.IO.Path.Combine(d, "run.json"))).OrderBy(d => d, StringComparer.Ordinal).LastOrDefault()
            : null;
        return latest ?? throw new RunDirectoryException($"--resume: no earlier run of {System.IO.Path.GetFileName(recipePath)} under {System.IO.Path.GetFullPath(parent)}; run it without --resume first, or name one with --run-dir");
    }

    /// <summary>
    /// Whether <paramref name="path"/> holds a completed run of exactly this invocation (status "completed", the same
    /// fingerprint): running it again would reproduce what is there, so the host answers instead of re-running.
    /// </summary>
    public static bool IsComplete(string path, string recipeHash, string resolvedConfig, out string? finishedUtc)
    {
        finishedUtc = null;
        var file = System.IO.Path.Combine(path, "run.json");
        if (!File.Exists(file)) return false;
        try
        {
            var run = JsonNode.Parse(File.ReadAllText(file));
            if (run?["status"]?.GetValue<string>() != "completed" || run["fingerprint"]?.GetValue<string>() != FingerprintOf(recipeHash, resolvedConfig)) return false;
            finishedUtc = run["updated_utc"]?.GetValue<string>();
            return true;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or IOException) { return false; }   // Prepare reports it
    }

    static string FingerprintOf(string recipeHash, string resolvedConfig) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(recipeHash + "\n" + resolvedConfig)));

    /// <summary>
    /// Creates or reopens the directory; throws <see cref="RunDirectoryException"/> for a changed invocation.
    /// <paramref name="planned"/>: a dry run's launch plan goes here, nothing has run (status "planned").
    /// </summary>
    public static RunDirectory Prepare(string path, string recipePath, string recipeHash, string resolvedConfig, bool force, bool planned = false)
    {
        var full = System.IO.Path.GetFullPath(path);
        var fingerprint = FingerprintOf(recipeHash, resolvedConfig);
        var dir = new RunDirectory(full, fingerprint);
        bool resumed = false;
        if (File.Exists(dir.RunFile))
        {
            string? previous;
            try { previous = JsonNode.Parse(File.ReadAllText(dir.RunFile))?["fingerprint"]?.GetValue<string>(); }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or IOException)
            {
                throw new RunDirectoryException($"{dir.RunFile} is unreadable ({e.Message}); choose another --run-dir, or repair or delete the file");
            }
            if (previous != fingerprint && !force)
                throw new RunDirectoryException(
                    $"run directory {full} belongs to a different invocation (recipe or resolved config changed: fingerprint {previous?[..12]} vs {fingerprint[..12]}); " +
                    "choose another --run-dir, or pass --force to reuse it");
            resumed = previous == fingerprint;
        }
        Directory.CreateDirectory(System.IO.Path.Combine(full, "logs"));
        AtomicFile.WriteAllText(System.IO.Path.Combine(full, "config.toml"), resolvedConfig);
        // A plan written into a directory this invocation already ran in leaves its status alone.
        if (!(planned && resumed)) dir.WriteStatus(planned ? "planned" : resumed ? "resumed" : "running", recipePath, recipeHash, null);
        return dir;
    }

    /// <summary>
    /// A directory another rank of the same job prepared (rank 0 writes run.json and config.toml; the others only
    /// read them and write their own logs).
    /// </summary>
    public static RunDirectory Join(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        string? fingerprint = null;
        try { fingerprint = JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(full, "run.json")))?["fingerprint"]?.GetValue<string>(); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or IOException)
        {
            throw new RunDirectoryException($"{full}: rank 0 prepared this run directory, but its run.json is not readable here ({e.Message}); every rank needs storage it can see");
        }
        return new RunDirectory(full, fingerprint ?? throw new RunDirectoryException($"{full}/run.json has no fingerprint"));
    }

    public void WriteStatus(string status, string recipePath, string recipeHash, string? error)
    {
        var json = new JsonObject
        {
            ["recipe"] = System.IO.Path.GetFullPath(recipePath),
            ["recipe_hash"] = recipeHash,
            ["fingerprint"] = Fingerprint,
            ["sdk_version"] = Ziya2Sdk.Version,
            ["status"] = status,
            ["updated_utc"] = DateTime.UtcNow.ToString("O"),
        };
        if (error is not null) json["error"] = error;
        AtomicFile.WriteAllText(RunFile, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}

/// <summary>The run directory cannot be used for this invocation.</summary>
public sealed class RunDirectoryException(string message) : Exception(message);
