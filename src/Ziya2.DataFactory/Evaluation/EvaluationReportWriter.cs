using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Ziya2.DataFactory.Evaluation;

/// <summary>Writes an evaluation as <c>report.json</c>, <c>report.html</c> (viewable offline) and one SVG chart per distribution.</summary>
public static class EvaluationReportWriter
{
    /// <summary>Writes the report; <paramref name="rounds"/> adds the gate loop's rounds (settings, kept share, verdict per round).</summary>
    public static void Write(string directory, EvaluationReport report, GateResult? gate = null, IReadOnlyList<GateRound>? rounds = null)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.Write(Path.Combine(directory, "report.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        var charts = new Dictionary<string, string>
        {
            ["rates.svg"] = BarChart.Svg("Level-1 rates (documents with a hit; compliant ≤ 0.1 %)",
                report.Rates.Select(kv => (kv.Key, kv.Value ?? 0, kv.Value is { } v ? v.ToString("P3", CultureInfo.InvariantCulture) : "not measured")).ToList()),
            ["languages.svg"] = BarChart.Svg("Language distribution", Shares(report.Languages, report.Sampled)),
            ["length.svg"] = BarChart.Svg("Document length (characters)", Shares(report.LengthHistogram, report.Sampled)),
            ["topics.svg"] = BarChart.Svg("Topic distribution (keyword lexicon)", Shares(report.Topics.Where(kv => kv.Value > 0), report.Sampled)),
        };
        foreach (var (name, svg) in charts) AtomicFile.Write(Path.Combine(directory, name), svg);

        var html = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>Data evaluation</title>" +
            "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}.fail{color:#b00}.pass{color:#070}</style></head><body>");
        html.Append(CultureInfo.InvariantCulture, $"<h1>Data evaluation</h1><p>{report.Documents:N0} documents; {report.Sampled:N0} sampled ({report.SampleRate:P1}, seed {report.Seed}); {report.Malformed:N0} malformed records skipped.</p>");
        if (gate is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<h2>Quality gate: <span class=\"{(gate.Passed ? "pass\">PASS" : "fail\">FAIL")}</span> (threshold {gate.Threshold:P2})</h2><table><tr><th>criterion</th><th>kind</th><th>unqualified</th><th>rate</th><th>verdict</th><th>tighten</th></tr>");
            foreach (var c in gate.Criteria)
                html.Append(CultureInfo.InvariantCulture, $"<tr><td>{c.Name}</td><td>{c.Kind}</td><td>{c.Unqualified:N0} / {c.Total:N0}</td><td>{c.Rate:P3}</td><td class=\"{(c.Passed ? "pass\">pass" : "fail\">fail")}</td><td style=\"text-align:left\">{(c.Passed ? "" : WebUtility.HtmlEncode(c.Advice))}</td></tr>");
            html.Append("</table>");
        }
        if (rounds is { Count: > 0 })
        {
            html.Append("<h2>Rounds of the gate</h2><table><tr><th>round</th><th>changed</th><th>re-ran</th><th>kept</th><th>failing criteria</th><th>verdict</th></tr>");
            foreach (var r in rounds)
                html.Append(CultureInfo.InvariantCulture, $"<tr><td>{r.Round}</td><td style=\"text-align:left\">{WebUtility.HtmlEncode(r.ChangedText)}</td>" +
                    $"<td>{WebUtility.HtmlEncode(string.Join(", ", r.Rerun))}</td><td>{r.KeptText}</td>" +
                    $"<td style=\"text-align:left\">{WebUtility.HtmlEncode(r.FailingText)}</td><td class=\"{(r.Gate.Passed ? "pass\">pass" : "fail\">fail")}</td></tr>");
            html.Append("</table>");
        }
        html.Append("<h2>Measures</h2><table><tr><th>measure</th><th>mean</th><th>p10</th><th>p50</th><th>p90</th></tr>");
        void Row(string name, Summary s) => html.Append(CultureInfo.InvariantCulture, $"<tr><td>{WebUtility.HtmlEncode(name)}</td><td>{s.Mean:G4}</td><td>{s.P10:G4}</td><td>{s.P50:G4}</td><td>{s.P90:G4}</td></tr>");
        foreach (var (language, s) in report.Perplexity) Row($"perplexity ({language}, {s.Count:N0} docs)", s);
        Row("informativeness (zstd ratio)", report.Informativeness);
        Row("readability: punctuated lines", report.PunctuatedLines);
        Row("readability: sentence length (chars)", report.SentenceChars);
        Row("length (chars)", report.Length);
        html.Append("</table>");
        foreach (var name in charts.Keys) html.Append(CultureInfo.InvariantCulture, $"<p><img src=\"{name}\" alt=\"{name}\"></p>");
        html.Append("<p>Methods: rates count documents with at least one regex/word-list hit; informativeness is the zstd-compressed size over the raw size; readability counts lines ending in terminal punctuation and mean sentence length; topics come from a keyword lexicon (docs/data-factory.md).</p></body></html>\n");
        AtomicFile.Write(Path.Combine(directory, "report.html"), html.ToString());
    }

    static List<(string, double, string)> Shares(IEnumerable<KeyValuePair<string, long>> counts, long total) =>
        counts.Select(kv => (kv.Key, (double)kv.Value, $"{kv.Value:N0} ({(double)kv.Value / Math.Max(1, total):P1})")).ToList();

}
