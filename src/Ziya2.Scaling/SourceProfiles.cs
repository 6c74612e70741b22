namespace Ziya2.Scaling;

/// <summary>The sources a mixture is planned from, as CSV: <c>name,tokens,coherence,readability,similarity</c>.</summary>
public static class SourceProfiles
{
    public static readonly string[] Columns = ["name", "tokens", "coherence", "readability", "similarity"];

    /// <summary>Reads every row; other columns are ignored. A bad value names its row and column.</summary>
    public static IReadOnlyList<SourceProfile> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such sources file", path);
        var sources = new List<SourceProfile>();
        foreach (var row in ColumnCsv.Read(path, Columns))
        {
            var name = row.Text("name");
            if (name.Length == 0) throw new InvalidDataException($"{path}:{row.Line}: a source needs a name");
            sources.Add(new SourceProfile(name, row.Number("tokens"), row.Number("coherence"), row.Number("readability"), row.Number("similarity")));
        }
        if (sources.Count == 0) throw new InvalidDataException($"{path}: no sources");
        return sources;
    }
}
