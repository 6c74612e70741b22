using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace Ziya2.Scaling;

/// <summary>The sources a mixture is planned from, as CSV: <c>name,tokens,coherence,readability,similarity</c>.</summary>
public static class SourceProfiles
{
    public static readonly string[] Columns = ["name", "tokens", "coherence", "readability", "similarity"];

    /// <summary>Reads every row; other columns are ignored. A bad value names its row and column.</summary>
    public static IReadOnlyList<SourceProfile> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such sources file", path);
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { TrimOptions = TrimOptions.Trim });
        if (!csv.Read() || !csv.ReadHeader()) throw new InvalidDataException($"{path}: empty; expected a header with {string.Join(",", Columns)}");
        var header = csv.HeaderRecord!.Select(h => h.Trim().ToLowerInvariant()).ToList();
        var index = Columns.ToDictionary(c => c, c => header.IndexOf(c));
        var absent = index.Where(kv => kv.Value < 0).Select(kv => kv.Key).ToList();
        if (absent.Count > 0) throw new InvalidDataException($"{path}: the header lacks {string.Join(", ", absent)} (it has {string.Join(", ", header)})");
        var sources = new List<SourceProfile>();
        while (csv.Read())
        {
            int row = csv.Parser.Row;
            double Get(string column)
            {
                var text = csv.GetField(index[column]);
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                    throw new InvalidDataException($"{path}:{row}: column '{column}' is '{text}', not a number");
                return v;
            }
            var name = csv.GetField(index["name"]) ?? "";
            if (name.Length == 0) throw new InvalidDataException($"{path}:{row}: a source needs a name");
            sources.Add(new SourceProfile(name, Get("tokens"), Get("coherence"), Get("readability"), Get("similarity")));
        }
        if (sources.Count == 0) throw new InvalidDataException($"{path}: no sources");
        return sources;
    }
}
