using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace Ziya2.Scaling;

/// <summary>
/// One observation of the data-centric scaling law (paper §7): after training on <see cref="Tokens"/> tokens of data
/// with the given coherence, readability and similarity (each in [0, 1]), the benchmark test loss was <see cref="Loss"/>.
/// </summary>
public sealed record ScalingSample(double Tokens, double Coherence, double Readability, double Similarity, double Loss);

/// <summary>Reads and writes samples as CSV with a header holding at least <c>tokens,coherence,readability,similarity,loss</c>.</summary>
public static class ScalingSamples
{
    public static readonly string[] Columns = ["tokens", "coherence", "readability", "similarity", "loss"];

    /// <summary>Reads every row; extra columns (stage, benchmark …) are ignored. A bad value names its row and column.</summary>
    public static IReadOnlyList<ScalingSample> Read(string path)
    {
        var samples = new List<ScalingSample>();
        foreach (var r in ColumnCsv.Read(path, Columns))
        {
            int row = r.Line;
            var s = new ScalingSample(r.Number("tokens"), r.Number("coherence"), r.Number("readability"), r.Number("similarity"), r.Number("loss"));
            if (s.Tokens < 0) throw new InvalidDataException($"{path}:{row}: tokens must be >= 0");
            if (!(s.Loss > 0)) throw new InvalidDataException($"{path}:{row}: loss must be > 0 (the law is fitted on log loss)");
            foreach (var (name, v) in new[] { ("coherence", s.Coherence), ("readability", s.Readability), ("similarity", s.Similarity) })
                if (v is < 0 or > 1) throw new InvalidDataException($"{path}:{row}: {name} {v} is outside [0, 1]");
            samples.Add(s);
        }
        if (samples.Count == 0) throw new InvalidDataException($"{path}: no samples");
        return samples;
    }

    /// <summary>
    /// Adds rows to <paramref name="path"/> (created with a header when absent; an existing file must have the same header).
    /// The file is rewritten atomically: earlier rows are kept byte for byte.
    /// </summary>
    public static void Append(string path, IEnumerable<(ScalingSample Sample, IReadOnlyList<string> Extra)> rows, IReadOnlyList<string> extraColumns)
    {
        string existing = "";
        if (File.Exists(path))
        {
            existing = File.ReadAllText(path);
            var header = string.Join(",", Columns.Concat(extraColumns));
            var first = existing.Split('\n')[0].TrimEnd('\r');
            if (first != header) throw new InvalidDataException($"{path}: header '{first}' differs from '{header}'; write to another file");
            if (existing.Length > 0 && !existing.EndsWith('\n')) existing += "\n";
        }
        Replace(path, existing + Format(rows, existing.Length == 0 ? extraColumns : null));
    }

    /// <summary>Writes (atomically, replacing the file) samples in the format <see cref="Read"/> takes, with extra columns per row.</summary>
    public static void Write(string path, IEnumerable<(ScalingSample Sample, IReadOnlyList<string> Extra)> rows, IReadOnlyList<string> extraColumns) =>
        Replace(path, Format(rows, extraColumns));

    /// <summary>Rows as CSV text (values round-trip exactly), preceded by the header when <paramref name="headerExtra"/> is given.</summary>
    static string Format(IEnumerable<(ScalingSample Sample, IReadOnlyList<string> Extra)> rows, IReadOnlyList<string>? headerExtra)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = new CsvWriter(text, CultureInfo.InvariantCulture))
        {
            if (headerExtra is not null) { foreach (var c in Columns.Concat(headerExtra)) csv.WriteField(c); csv.NextRecord(); }
            foreach (var (s, extra) in rows)
            {
                foreach (var v in new[] { s.Tokens, s.Coherence, s.Readability, s.Similarity, s.Loss }) csv.WriteField(v.ToString("R", CultureInfo.InvariantCulture));
                foreach (var e in extra) csv.WriteField(e);
                csv.NextRecord();
            }
        }
        return text.ToString();
    }

    static void Replace(string path, string contents)
    {
        File.WriteAllText(path + ".tmp", contents);
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
