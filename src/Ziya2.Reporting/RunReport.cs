using System.Globalization;
using System.Net;
using System.Text;
using ScottPlot;

namespace Ziya2.Reporting;

/// <summary>
/// A run report: sections of text, tables and charts, written as one <c>report.html</c> (no scripts, no network: it
/// opens offline) with its charts as PNG files beside it in <c>charts/</c>. Recipes add the sections they have.
/// </summary>
public sealed class RunReport(string title)
{
    readonly List<Func<string, string>> _sections = [];   // each renders its HTML given the output directory (charts are written then)
    int _charts;

    /// <summary>A heading and a paragraph.</summary>
    public RunReport Text(string heading, string text)
    {
        _sections.Add(_ => $"<h2>{E(heading)}</h2>\n<p>{E(text)}</p>\n");
        return this;
    }

    /// <summary>A table; cells are shown as given (format numbers before). A table wider than the page scrolls inside its section.</summary>
    public RunReport Table(string heading, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows)
    {
        var body = rows.ToList();
        _sections.Add(_ =>
        {
            var sb = new StringBuilder($"<h2>{E(heading)}</h2>\n<div class=\"wide\"><table>\n<tr>");
            foreach (var c in columns) sb.Append($"<th>{E(c)}</th>");
            sb.Append("</tr>\n");
            foreach (var r in body) { sb.Append("<tr>"); foreach (var cell in r) sb.Append($"<td>{E(cell)}</td>"); sb.Append("</tr>\n"); }
            return sb.Append("</table></div>\n").ToString();
        });
        return this;
    }

    /// <summary>A line chart of one or more named series (x, y), e.g. loss per stage against step.</summary>
    public RunReport LineChart(string heading, string xLabel, string yLabel, IEnumerable<(string Name, double[] X, double[] Y)> series, bool logY = false)
    {
        var data = series.Where(s => s.X.Length > 0).ToList();
        _sections.Add(dir => Chart(dir, heading, plot =>
        {
            foreach (var (name, x, y) in data)
            {
                var line = plot.Add.ScatterLine(x, logY ? y.Select(v => Math.Log10(Math.Max(v, 1e-300))).ToArray() : y);
                line.LegendText = name;
                line.LineWidth = 2;
            }
            plot.XLabel(xLabel);
            plot.YLabel(logY ? $"log10 {yLabel}" : yLabel);
            if (data.Count > 1) plot.ShowLegend(Alignment.UpperRight);
        }));
        return this;
    }

    /// <summary>A bar chart of named values, e.g. documents left after each data-factory step.</summary>
    public RunReport BarChart(string heading, string yLabel, IReadOnlyList<(string Label, double Value)> bars)
    {
        _sections.Add(dir => Chart(dir, heading, plot =>
        {
            var items = bars.Select((b, i) => new Bar { Position = i, Value = b.Value, FillColor = Colors.SteelBlue }).ToList();
            plot.Add.Bars(items);
            plot.Axes.Bottom.SetTicks(bars.Select((_, i) => (double)i).ToArray(), bars.Select(b => b.Label).ToArray());
            plot.Axes.Bottom.TickLabelStyle.Rotation = 60;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
            // Rotated labels need room below the axis: about 7 px per character at the default font size.
            plot.Axes.Bottom.MinimumSize = 10 + 6.5f * bars.Select(b => b.Label.Length).DefaultIfEmpty(4).Max();
            plot.Axes.Margins(bottom: 0);
            plot.YLabel(yLabel);
        }, height: 520));
        return this;
    }

    string Chart(string directory, string heading, Action<Plot> draw, int height = 380)
    {
        var name = $"chart-{++_charts:D2}.png";
        var plot = new Plot();
        draw(plot);
        plot.Title(heading);
        Directory.CreateDirectory(Path.Combine(directory, "charts"));
        // Written under a temporary name and moved: a reader never sees half a PNG.
        var path = Path.Combine(directory, "charts", name);
        plot.SavePng(path + ".tmp", 900, height);
        File.Move(path + ".tmp", path, overwrite: true);
        return $"<h2>{E(heading)}</h2>\n<img src=\"charts/{name}\" alt=\"{E(heading)}\" width=\"900\">\n";
    }

    /// <summary>Writes <c>report.html</c> and <c>charts/*.png</c> into <paramref name="directory"/>; returns the HTML path.</summary>
    public string Write(string directory)
    {
        Directory.CreateDirectory(directory);
        _charts = 0;
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title>\n<style>")
          .Append("body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}")
          .Append("td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}")
          .Append("h2{margin-top:1.6em;border-bottom:1px solid #ddd}.wide{max-width:100%;overflow-x:auto}</style></head><body>\n")
          .Append("<h1>").Append(E(title)).Append("</h1>\n<p>Written ").Append(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)).Append(" UTC.</p>\n");
        foreach (var section in _sections) sb.Append(section(directory));
        sb.Append("</body></html>\n");
        var html = Path.Combine(directory, "report.html");
        File.WriteAllText(html + ".tmp", sb.ToString());
        File.Move(html + ".tmp", html, overwrite: true);
        return html;
    }

    static string E(string s) => WebUtility.HtmlEncode(s);
}
