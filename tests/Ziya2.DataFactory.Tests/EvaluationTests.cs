using System.Text.Json;
using Ziya2.Data;
using Ziya2.DataFactory.Evaluation;
using Ziya2.DataFactory.Reading;

namespace Ziya2.DataFactory.Tests;

/// <summary>Step 5: automatic metrics on a sample, the human sheet, and the gate.</summary>
public class EvaluationTests
{
    static string Line(string id, string text, string? language = null, object? attributes = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?> { ["id"] = id, ["text"] = text, ["language"] = language, ["attributes"] = attributes });

    [Fact]
    public void Measures_every_document_at_rate_one()
    {
        using var tmp = new TempDir();
        var ads = tmp.Combine("ads.txt");
        File.WriteAllText(ads, "# ads\n限时抢购\nbuy now\n");
        var toxic = tmp.Combine("toxic.txt");
        File.WriteAllText(toxic, "badword\nass\n");   // "ass" must not be found in "class" or "assessed": toxic words are whole words
        var input = tmp.Combine("kept.jsonl");
        File.WriteAllLines(input,
        [
            Line("1", "联系邮箱 someone@example.com，电话 13812345678。", "zh", new { perplexity = 120.5, quality_bucket = "high" }),
            Line("2", "<div class=\"x\">Buy now</div> and buy NOW again.", "en", new { perplexity = 300, quality_bucket = "medium" }),
            Line("3", "球队在比赛中获得冠军，教练和运动员都很高兴。The class assessed it.", "zh", new { perplexity = 80.25, quality_bucket = "high" }),
            Line("4", "The court heard the case and the judge read the contract before the lawsuit ended. A badword here.", "en"),
            "{ not json",
        ]);
        var (report, sheet) = new DataEvaluator(new EvaluationOptions { SampleRate = 1, SheetSize = 10, AdvertisingLists = [ads], ToxicLists = [toxic] })
            .Run(InputShard.Expand([input]));
        Assert.Equal((4, 4, 1), (report.Documents, report.Sampled, report.Malformed));
        Assert.Equal(0.25, report.Rates["privacy"]);
        Assert.Equal(0.25, report.Rates["html_function"]);
        Assert.Equal(0.25, report.Rates["advertising"]);
        Assert.Equal(0.25, report.Rates["toxic"]);
        Assert.Equal(new SortedDictionary<string, long> { ["en"] = 2, ["zh"] = 2 }, report.Languages);
        Assert.Equal((2, 100.375), (report.Perplexity["zh"].Count, report.Perplexity["zh"].Mean));   // from attributes an earlier pipeline wrote
        Assert.Equal(2, report.QualityBuckets["high"]);
        Assert.Equal(1, report.Topics["sports"]);
        Assert.Equal(1, report.Topics["law"]);
        Assert.Equal(4, report.LengthHistogram.Single(kv => kv.Key == "<100").Value + report.LengthHistogram.Single(kv => kv.Key == "100-300").Value);
        Assert.Equal(4, sheet.Count);
        Assert.InRange(report.Informativeness.Mean, 0.3, 1.0);

        // Without a toxic list the toxic rate is not measured rather than zero.
        var (unmeasured, _) = new DataEvaluator(new EvaluationOptions { SampleRate = 1 }).Run(InputShard.Expand([input]));
        Assert.Null(unmeasured.Rates["toxic"]);

        EvaluationReportWriter.Write(tmp.Combine("report"), report);
        foreach (var f in new[] { "report.json", "report.html", "rates.svg", "languages.svg", "length.svg", "topics.svg" })
            Assert.True(File.Exists(tmp.Combine("report", f)), f);
        Assert.Equal(4, JsonDocument.Parse(File.ReadAllText(tmp.Combine("report", "report.json"))).RootElement.GetProperty("sampled").GetInt32());
    }

    [Fact]
    public void Samples_are_seeded_and_near_the_rate()
    {
        using var tmp = new TempDir();
        var input = tmp.Combine("many.jsonl");
        File.WriteAllLines(input, Enumerable.Range(0, 3000).Select(i => Line($"doc-{i}", $"document number {i}")));
        var shards = InputShard.Expand([input]);
        EvaluationReport Run(long seed) => new DataEvaluator(new EvaluationOptions { SampleRate = 0.1, Seed = seed, SheetSize = 50 }).Run(shards).Report;
        var a = Run(1);
        Assert.InRange(a.Sampled, 240, 360);
        Assert.Equal(a.Sampled, Run(1).Sampled);
        var (_, sheet1) = new DataEvaluator(new EvaluationOptions { SheetSize = 50, Seed = 1 }).Run(shards);
        var (_, sheet2) = new DataEvaluator(new EvaluationOptions { SheetSize = 50, Seed = 2 }).Run(shards);
        Assert.Equal(50, sheet1.Count);
        Assert.NotEqual(sheet1.Select(d => d.Id), sheet2.Select(d => d.Id));
        Assert.True(sheet1.Any(d => int.Parse(d.Id[4..]) > 1500), "the reservoir reaches the end of the input");
    }

    static string JudgedSheet(TempDir tmp, int rows, int coherenceProblems, string? badCell = null)
    {
        var path = tmp.Combine($"sheet-{Guid.NewGuid():N}.csv");
        HumanSheet.Export(path, Enumerable.Range(0, rows).Select(i => new Document($"d{i}", $"text, with \"quotes\"\nand a newline {i}")));
        var lines = File.ReadAllText(path);
        // Fill the three empty judgement cells of each row (",,,," before the comment column) the way a judge would.
        int row = 0;
        var filled = System.Text.RegularExpressions.Regex.Replace(lines, ",,,,\r?\n", m => (row++ < coherenceProblems ? ",1,0,0," : ",0,0,0,") + "\n");
        if (badCell is not null) filled = filled.Replace(",0,0,0,\n", $",{badCell},0,0,\n");
        File.WriteAllText(path, filled);
        return path;
    }

    [Fact]
    public void The_gate_passes_at_one_in_a_thousand_and_fails_above_with_advice()
    {
        using var tmp = new TempDir();
        var ok = QualityGate.Check(HumanSheet.Import(JudgedSheet(tmp, 1000, 1)), null);
        Assert.True(ok.Passed);
        Assert.Equal(0.001, ok.Criteria.Single(c => c.Name == "coherence").Rate);

        var bad = QualityGate.Check(HumanSheet.Import(JudgedSheet(tmp, 1000, 2)), null);
        Assert.False(bad.Passed);
        var failure = Assert.Single(bad.Failures);
        Assert.Equal(("coherence", 2L), (failure.Name, failure.Unqualified));
        Assert.Contains("perplexity", failure.Advice);

        var report = new EvaluationReport { Sampled = 500, Rates = new() { ["privacy"] = 0.004, ["toxic"] = null, ["advertising"] = 0, ["html_function"] = 0.001 } };
        var automatic = QualityGate.Check(null, report);
        Assert.Equal(["privacy"], automatic.Failures.Select(f => f.Name));
        Assert.DoesNotContain(automatic.Criteria, c => c.Name == "toxic");   // not measured, not judged
    }

    [Fact]
    public void A_sheet_with_missing_or_invalid_judgements_is_refused_with_the_row()
    {
        using var tmp = new TempDir();
        var blank = Assert.Throws<InvalidDataException>(() => HumanSheet.Import(JudgedSheet(tmp, 3, 0, badCell: "")));
        Assert.Contains("coherence is not judged", blank.Message);
        var invalid = Assert.Throws<InvalidDataException>(() => HumanSheet.Import(JudgedSheet(tmp, 3, 0, badCell: "yes")));
        Assert.Matches(@"sheet-\w+\.csv:\d+: coherence must be 0 or 1, got 'yes'", invalid.Message);
        var noColumn = tmp.Combine("nocol.csv");
        File.WriteAllText(noColumn, "id,text\n1,x\n");
        Assert.Contains("no 'coherence' column", Assert.Throws<InvalidDataException>(() => HumanSheet.Import(noColumn)).Message);
    }
}
