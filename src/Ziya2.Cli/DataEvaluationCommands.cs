using System.CommandLine;
using System.Text.Json;
using Ziya2.DataFactory.Evaluation;
using Ziya2.DataFactory.Reading;
using Ziya2.Kernel.Hosting;

namespace Ziya2.Cli;

/// <summary><c>ziya2 data evaluate</c> and <c>ziya2 data gate</c>: step 5 of the data factory (paper §2.1 DE).</summary>
static class DataEvaluationCommands
{
    /// <summary>The advertising list bundled with the data-filter plugin, used when none is given.</summary>
    static string? BundledAdvertisingList()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "plugins", "Ziya2.Plugins.DataFilters", "data", "wordlists", "advertising.txt");
        return File.Exists(path) ? path : null;
    }

    public static Command Evaluate()
    {
        var input = new Option<string[]>("--input") { Description = "Processed shards or directories (e.g. <out>/kept)", Required = true, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--output") { Description = "Report directory: report.json, report.html, charts, human-sheet.csv", Required = true };
        var rate = new Option<double>("--sample-rate") { Description = "Share of documents evaluated automatically (paper: 0.01)", DefaultValueFactory = _ => 0.01 };
        var size = new Option<int>("--sheet-size") { Description = "Documents exported for human evaluation (paper: 1000)", DefaultValueFactory = _ => 1000 };
        var seed = new Option<long>("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 20231127 };
        var toxic = new Option<string[]>("--toxic-list") { Description = "Toxic word list(s); without one the toxic rate is not measured", Arity = ArgumentArity.ZeroOrMore };
        var ads = new Option<string[]>("--ads-list") { Description = "Advertising word list(s); default: the data-filter plugin's advertising.txt", Arity = ArgumentArity.ZeroOrMore };
        var topics = new Option<string?>("--topics") { Description = "Topic lexicon TSV (topic<TAB>keyword); default: built-in zh/en lexicon" };
        var command = new Command("evaluate", "Automatic metrics on a seeded sample (paper Table 1) and a sheet for human evaluation") { input, output, rate, size, seed, toxic, ads, topics };
        command.SetAction(r => InvalidInput.Guard(() =>
        {
            var options = new EvaluationOptions
            {
                SampleRate = r.GetValue(rate), SheetSize = r.GetValue(size), Seed = r.GetValue(seed), TopicLexicon = r.GetValue(topics),
                ToxicLists = [.. r.GetValue(toxic) ?? []],
                AdvertisingLists = r.GetValue(ads) is { Length: > 0 } a ? [.. a] : BundledAdvertisingList() is { } bundled ? [bundled] : [],
            };
            var problems = options.Validate().ToList();
            if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems));
            var (report, sheet) = new DataEvaluator(options).Run(InputShard.Expand(r.GetValue(input)!));
            var dir = r.GetValue(output)!;
            EvaluationReportWriter.Write(dir, report);
            HumanSheet.Export(Path.Combine(dir, "human-sheet.csv"), sheet);
            Console.Out.WriteLine($"{report.Documents:N0} documents, {report.Sampled:N0} sampled; rates: " +
                                  string.Join(", ", report.Rates.Select(kv => $"{kv.Key} {(kv.Value is { } v ? v.ToString("P3") : "not measured")}")));
            Console.Out.WriteLine($"report: {Path.Combine(dir, "report.html")}  sheet ({sheet.Count:N0} rows; fill coherence/readability/toxic with 1 when the problem is present): {Path.Combine(dir, "human-sheet.csv")}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Gate()
    {
        var sheet = new Option<string?>("--sheet") { Description = "Judged human-evaluation sheet (CSV)" };
        var report = new Option<string?>("--report") { Description = "report.json from 'data evaluate' (adds the Level-1 automatic rates)" };
        var threshold = new Option<double>("--threshold") { Description = "Largest unqualified rate accepted (paper: 0.001)", DefaultValueFactory = _ => QualityGate.PaperThreshold };
        var json = new Option<bool>("--json") { Description = "Print the verdict as JSON" };
        var command = new Command("gate", "Pass (exit 0) when every unqualified rate is at most the threshold; otherwise exit 1 naming what to tighten") { sheet, report, threshold, json };
        command.SetAction(r => InvalidInput.Guard(() =>
        {
            var judged = r.GetValue(sheet) is { } s ? HumanSheet.Import(s) : null;
            var automatic = r.GetValue(report) is { } p ? JsonSerializer.Deserialize<EvaluationReport>(File.ReadAllText(p)) ?? throw new InvalidDataException($"{p}: empty report") : null;
            var result = QualityGate.Check(judged, automatic, r.GetValue(threshold));
            if (r.GetValue(json)) Console.Out.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
            else
            {
                foreach (var c in result.Criteria)
                    Console.Out.WriteLine($"{(c.Passed ? "pass" : "FAIL"),-4} {c.Name,-14} {c.Kind,-9} {c.Unqualified,6:N0} / {c.Total,-7:N0} {c.Rate,9:P3}{(c.Passed ? "" : "  → " + c.Advice)}");
                Console.Out.WriteLine(result.Passed ? $"gate passed (threshold {result.Threshold:P2})" : $"gate failed: {string.Join(", ", result.Failures.Select(f => f.Name))} above {result.Threshold:P2}");
            }
            return result.Passed ? ExitCodes.Ok : ExitCodes.RunFailed;
        }));
        return command;
    }
}
