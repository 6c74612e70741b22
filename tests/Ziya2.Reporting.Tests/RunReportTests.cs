namespace Ziya2.Reporting.Tests;

public sealed class RunReportTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ziya2-report-").FullName;

    [Fact]
    public void Metrics_log_keeps_numbers_and_named_non_finite_values_skips_torn_lines_and_keeps_the_last_of_a_repeated_step()
    {
        var path = Path.Combine(_dir, "metrics.jsonl");
        File.WriteAllLines(path,
        [
            """{"event":"general","step":0,"time_utc":"2026-11-27T00:00:00Z","loss":4.5,"mfu":null,"grad_norm":"NaN"}""",   // null as written now; "NaN" as older files have it
            """{"event":"general","step":9,"loss":3.0}""",
            """{"event":"math","step":0,"loss":2.0}""",
            """{"event":"general","step":9,"loss":2.5}""",      // a resumed run repeats a step: the later value wins
            """{"event":"general","step":19,"lo""",              // torn by a kill
        ]);
        var records = MetricsLog.Read(path);
        Assert.Equal(4, records.Count);
        Assert.True(double.IsNaN(records[0].Values["mfu"]));
        Assert.True(double.IsNaN(records[0].Values["grad_norm"]));
        Assert.False(records[0].Values.ContainsKey("time_utc"));
        var (x, y) = MetricsLog.Series(records, "general", "loss");
        Assert.Equal([0.0, 9.0], x);
        Assert.Equal([4.5, 2.5], y);
        Assert.Empty(MetricsLog.Series(records, "general", "mfu").Steps);   // non-finite points are not plotted
        Assert.Empty(MetricsLog.Read(Path.Combine(_dir, "absent.jsonl")));
    }

    [Fact]
    public void Writes_one_offline_html_page_with_png_charts_and_escapes_text()
    {
        var html = new RunReport("Run <1> & co")
            .Text("Note", "loss < 2 & falling")
            .BarChart("Funnel", "documents", [("raw", 100), ("language", 90), ("dedup", 70)])
            .Table("Stages", ["stage", "loss"], [["general", "1.234"], ["math", "<b>"]])
            .LineChart("Loss", "step", "loss", [("general", [0, 1, 2], [3, 2, 1]), ("empty", [], [])])
            .Write(_dir);
        var text = File.ReadAllText(html);
        Assert.Contains("<title>Run &lt;1&gt; &amp; co</title>", text);
        Assert.Contains("loss &lt; 2 &amp; falling", text);
        Assert.Contains("<td>&lt;b&gt;</td>", text);
        Assert.DoesNotContain("<script", text);
        Assert.DoesNotContain("http", text);                       // nothing fetched: it opens offline
        var charts = Directory.GetFiles(Path.Combine(_dir, "charts")).Order().ToList();
        Assert.Equal(["chart-01.png", "chart-02.png"], charts.Select(Path.GetFileName));
        foreach (var chart in charts)
        {
            Assert.Contains($"src=\"charts/{Path.GetFileName(chart)}\"", text);
            var bytes = File.ReadAllBytes(chart);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
            Assert.True(bytes.Length > 2000, $"{chart}: {bytes.Length} bytes");
        }
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories));
    }

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }
}
