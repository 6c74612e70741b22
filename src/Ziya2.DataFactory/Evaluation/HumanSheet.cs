using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using Ziya2.Data;

namespace Ziya2.DataFactory.Evaluation;

/// <summary>One judged document: 1 means the problem is present (paper Figure 8), 0 that it is not.</summary>
public sealed record Judgement(string Id, int Coherence, int Readability, int Toxic);

/// <summary>
/// The human-evaluation sheet (paper §2.1 DE, Figure 8): a CSV that opens in any spreadsheet, one document per row, with
/// the three binary criteria to fill in — <c>1</c> when the problem is present:
/// coherence (meaningless content such as ads or navigation bars, several unrelated pieces, many URLs), readability
/// (grammatical or punctuation errors, truncated sentences, broken machine translation), toxic (terrorist, violent or
/// pornographic content).
/// </summary>
public static class HumanSheet
{
    public static readonly string[] Criteria = ["coherence", "readability", "toxic"];

    /// <summary>Writes the sheet (atomically) with empty judgement columns.</summary>
    public static void Export(string path, IEnumerable<Document> documents)
    {
        var tmp = path + ".tmp";
        using (var writer = new StreamWriter(tmp, false, new System.Text.UTF8Encoding(true)))   // BOM: spreadsheet programs then read UTF-8
        using (var csv = new CsvWriter(writer, CultureInfo.InvariantCulture))
        {
            foreach (var h in new[] { "id", "language", "source", "text" }.Concat(Criteria).Append("comment")) csv.WriteField(h);
            csv.NextRecord();
            foreach (var d in documents)
            {
                foreach (var v in new[] { d.Id, d.Language ?? "", d.Source ?? "", d.Text, "", "", "", "" }) csv.WriteField(v);
                csv.NextRecord();
            }
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Reads a judged sheet; every criterion of every row must be 0 or 1 (errors name the row and column).</summary>
    public static List<Judgement> Import(string path)
    {
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { DetectDelimiter = true });
        if (!csv.Read() || !csv.ReadHeader()) throw new InvalidDataException($"{path}: empty sheet");
        var header = csv.HeaderRecord!.Select(h => h.Trim().ToLowerInvariant()).ToArray();
        foreach (var c in Criteria.Prepend("id"))
            if (!header.Contains(c)) throw new InvalidDataException($"{path}: no '{c}' column (have: {string.Join(", ", header)})");
        var rows = new List<Judgement>();
        while (csv.Read())
        {
            int row = csv.Parser.Row;
            int Value(string column)
            {
                var raw = (csv.GetField(Array.IndexOf(header, column)) ?? "").Trim();
                return raw switch
                {
                    "0" => 0, "1" => 1,
                    "" => throw new InvalidDataException($"{path}:{row}: {column} is not judged (fill in 0 or 1)"),
                    _ => throw new InvalidDataException($"{path}:{row}: {column} must be 0 or 1, got '{raw}'"),
                };
            }
            rows.Add(new Judgement(csv.GetField(Array.IndexOf(header, "id")) ?? "", Value("coherence"), Value("readability"), Value("toxic")));
        }
        if (rows.Count == 0) throw new InvalidDataException($"{path}: no judged rows");
        return rows;
    }
}
