using System.Globalization;
using System.Text.RegularExpressions;

namespace Ziya2.Plugins.Dedup;

/// <summary>
/// The files of a persistent dedup index, one set per partition — URL Bloom filter, exact Bloom filter, SimHash
/// database — so each reduce task opens only its own: <c>url.bloom</c> with one partition,
/// <c>url-0003-of-0016.bloom</c> with sixteen. A key's partition is a hash of the key, so an index is readable only with
/// the partition count it was built with; another count is refused, not silently started afresh.
/// </summary>
sealed partial class DedupIndex(string directory, int partitions)
{
    public string Directory { get; } = Path.GetFullPath(directory);

    public string Url(int partition) => Path.Combine(Directory, Name("url", partition, "bloom"));
    public string Exact(int partition) => Path.Combine(Directory, Name("exact", partition, "bloom"));
    public string SimHash(int partition) => Path.Combine(Directory, Name("simhash", partition, "db"));

    string Name(string kind, int partition, string extension) =>
        partitions == 1 ? $"{kind}.{extension}" : $"{kind}-{partition:D4}-of-{partitions:D4}.{extension}";

    /// <summary>Refuses a directory whose files were written with another partition count.</summary>
    public void Check()
    {
        if (!System.IO.Directory.Exists(Directory)) return;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory))
        {
            var m = IndexFile().Match(Path.GetFileName(file));
            if (!m.Success) continue;
            int built = m.Groups[1].Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 1;
            if (built != partitions)
                throw new InvalidDataException($"{Directory}: index built with partitions = {built} ({Path.GetFileName(file)}); this run asks for partitions = {partitions} — " +
                                               "use the same partitions or a new index directory");
        }
    }

    [GeneratedRegex(@"^(?:url|exact|simhash)(?:-\d{4}-of-(\d{4}))?\.(?:bloom|db)$")]
    private static partial Regex IndexFile();
}
