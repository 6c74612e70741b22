using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace Ziya2.Scaling;

/// <summary>
/// The CSV shape the scaling files share: a header that must hold given columns (any order, any case, others ignored),
/// then rows whose values are read by column name, a bad one named with its file, row and column.
/// </summary>
static class ColumnCsv
{
    public sealed class Row(CsvReader csv, Dictionary<string, int> index, string path)
    {
        public int Line { get; } = csv.Parser.Row;

        public string Text(string column) => csv.GetField(index[column]) ?? "";

        public double Number(string column)
        {
            var text = Text(column);
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                throw new InvalidDataException($"{path}:{Line}: column '{column}' is '{text}', not a number");
            return v;
        }
    }

    public static IEnumerable<Row> Read(string path, IReadOnlyList<string> columns)
    {
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { TrimOptions = TrimOptions.Trim });
        if (!csv.Read() || !csv.ReadHeader()) throw new InvalidDataException($"{path}: empty; expected a header with {string.Join(",", columns)}");
        var header = csv.HeaderRecord!.Select(h => h.Trim().ToLowerInvariant()).ToList();
        var index = columns.ToDictionary(c => c, c => header.IndexOf(c));
        var absent = index.Where(kv => kv.Value < 0).Select(kv => kv.Key).ToList();
        if (absent.Count > 0) throw new InvalidDataException($"{path}: the header lacks {string.Join(", ", absent)} (it has {string.Join(", ", header)})");
        while (csv.Read()) yield return new Row(csv, index, path);
    }
}
