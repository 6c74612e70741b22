using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ziya2.Kernel.Hosting;
using Ziya2.Scaling;

namespace Ziya2.Cli;

/// <summary><c>ziya2 scaling fit|predict</c>: the data-centric scaling law of Ziya2 §7.</summary>
static class ScalingCommands
{
    public static Command Create()
    {
        var samples = new Argument<string>("samples") { Description = "CSV with a header holding tokens,coherence,readability,similarity,loss (other columns allowed)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var grid = new Option<StartGrid>("--grid") { Description = "Starting points: paper (32,768), wide (the paper's plus 972 with α 0.03–0.3 and F 1e9–1e11), coarse (96)", DefaultValueFactory = _ => StartGrid.Wide };
        var delta = new Option<double>("--delta") { Description = "Huber threshold on log-loss residuals", DefaultValueFactory = _ => 1e-3 };
        var output = new Option<string?>("--out") { Description = "Directory for fit.json and the loss-vs-attribute plots" };
        var fit = new Command("fit", "Fit L(D) = D^-α + E, D = (A·CH + B·RA + C·SIM)·V + F with a Huber loss and L-BFGS from a grid of starts") { samples, json, grid, delta, output };
        fit.SetAction(r => InvalidInput.Guard(() =>
        {
            var data = ScalingSamples.Read(r.GetValue(samples)!);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            if (!(r.GetValue(delta) > 0)) throw new ArgumentException("--delta must be > 0");
            var result = ScalingLawFit.Fit(data, new FitOptions { Grid = r.GetValue(grid), Delta = r.GetValue(delta) });
            var node = ToJson(result, clock.Elapsed.TotalSeconds);
            if (r.GetValue(output) is { } dir)
            {
                Directory.CreateDirectory(dir);
                AtomicFile.WriteAllText(Path.Combine(dir, "fit.json"), node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                node["plots"] = new JsonArray([.. ScalingPlots.Write(dir, data, result.Law).Select(p => JsonValue.Create(p))]);
            }
            if (r.GetValue(json)) Console.Out.WriteLine(node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            else Print(result, clock.Elapsed.TotalSeconds, r.GetValue(output));
            return ExitCodes.Ok;
        }));

        var fitFile = new Option<string?>("--fit") { Description = "fit.json written by 'scaling fit --out'" };
        var paper = new Option<bool>("--paper") { Description = "Use the paper's fitted law (α 0.06, E 0.31, A 1.66, B 1.98, C 0.70, F 1.24e10)" };
        var tokens = new Option<double?>("--tokens") { Description = "V: tokens trained on" };
        var coherence = new Option<double?>("--coherence");
        var readability = new Option<double?>("--readability");
        var similarity = new Option<double?>("--similarity");
        var csv = new Option<string?>("--samples") { Description = "Predict every row of this samples CSV and show each beside its observed loss" };
        var predict = new Command("predict", "Predict test loss from data volume and attributes") { fitFile, paper, tokens, coherence, readability, similarity, csv, json };
        predict.SetAction(r => InvalidInput.Guard(() =>
        {
            var law = r.GetValue(paper) ? ScalingLaw.Paper
                : r.GetValue(fitFile) is { } f ? ReadLaw(f)
                : throw new ArgumentException("give --fit fit.json or --paper");
            if (r.GetValue(csv) is { } file)
            {
                foreach (var s in ScalingSamples.Read(file))
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Tokens:G6},{s.Coherence},{s.Readability},{s.Similarity}: predicted {law.Predict(s):F6}, observed {s.Loss:F6}"));
                return ExitCodes.Ok;
            }
            if (r.GetValue(tokens) is not { } v || r.GetValue(coherence) is not { } ch || r.GetValue(readability) is not { } ra || r.GetValue(similarity) is not { } sim)
                throw new ArgumentException("give --tokens, --coherence, --readability and --similarity (or --samples file.csv)");
            double loss = law.Predict(v, ch, ra, sim), d = law.EffectiveData(v, ch, ra, sim);
            Console.Out.WriteLine(r.GetValue(json)
                ? new JsonObject { ["loss"] = loss, ["effective_data"] = d }.ToJsonString()
                : string.Create(CultureInfo.InvariantCulture, $"loss {loss:F6} (effective data D = {d:G4} tokens)"));
            return ExitCodes.Ok;
        }));
        return new Command("scaling", "Data-centric scaling laws (Ziya2 §7): fit, predict and plan mixtures") { fit, predict, Plan() };
    }

    /// <summary><c>ziya2 scaling plan</c>: the mixture of the given sources the law predicts best, and candidates ranked.</summary>
    static Command Plan()
    {
        var sources = new Option<string>("--sources") { Description = "CSV with a header holding name,tokens,coherence,readability,similarity: what each source offers (tokens × epochs allowed) and its attributes", Required = true };
        var fitFile = new Option<string?>("--fit") { Description = "fit.json written by 'scaling fit --out' (its near-optimal ranges add the choice's robustness)" };
        var paper = new Option<bool>("--paper") { Description = "Use the paper's fitted law" };
        var budget = new Option<double?>("--budget") { Description = "Tokens to train on: propose the mixture of lowest predicted loss" };
        var target = new Option<double?>("--target-loss") { Description = "Loss to reach: propose the mixture that reaches it with the fewest tokens" };
        var mixtures = new Option<string[]>("--mixture") { Description = "A candidate: 'label:source=share,source=share' (shares of any scale); repeatable", AllowMultipleArgumentsPerToken = false };
        var json = new Option<bool>("--json") { Description = "Print the plan as JSON" };
        var plan = new Command("plan", "Plan a data mixture: the lowest predicted loss within a token budget, or the fewest tokens to a target loss") { sources, fitFile, paper, budget, target, mixtures, json };
        plan.SetAction(r => InvalidInput.Guard(() =>
        {
            if (r.GetValue(paper) == r.GetValue(fitFile) is not null) throw new ArgumentException("give --fit fit.json or --paper (one of them)");
            var law = r.GetValue(fitFile) is { } f ? ReadLaw(f) : ScalingLaw.Paper;
            var ranges = r.GetValue(fitFile) is { } ff ? ReadRanges(ff) : null;
            var profiles = SourceProfiles.Read(r.GetValue(sources)!);
            var candidates = (r.GetValue(mixtures) ?? []).Select(ParseMixture).ToList();
            var result = MixturePlanner.Plan(law, profiles, r.GetValue(budget), r.GetValue(target), candidates, ranges);
            if (r.GetValue(json)) Console.Out.WriteLine(PlanJson(result).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            else PrintPlan(result, profiles, r.GetValue(budget), r.GetValue(target));
            return ExitCodes.Ok;
        }));
        return plan;
    }

    static (string, IReadOnlyDictionary<string, double>) ParseMixture(string spec)
    {
        var colon = spec.IndexOf(':');
        if (colon <= 0) throw new ArgumentException($"--mixture '{spec}': expected 'label:source=share,source=share'");
        var shares = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var part in spec[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0 || !double.TryParse(part[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var share))
                throw new ArgumentException($"--mixture '{spec}': '{part}' is not source=share");
            if (!shares.TryAdd(part[..eq].Trim(), share)) throw new ArgumentException($"--mixture '{spec}': '{part[..eq].Trim()}' is given twice");
        }
        if (shares.Count == 0) throw new ArgumentException($"--mixture '{spec}': no source=share");
        return (spec[..colon].Trim(), shares);
    }

    /// <summary>fit.json's near-optimal range of each coefficient; entries that are not two numbers are left out.</summary>
    static IReadOnlyDictionary<string, (double Min, double Max)>? ReadRanges(string path)
    {
        if (JsonNode.Parse(File.ReadAllText(path))?["identifiability"]?["near_optimal_ranges"] is not JsonObject ranges) return null;
        static double? Number(JsonNode? n) => n is JsonValue v && v.TryGetValue<double>(out var x) ? x : null;
        return ranges.Where(kv => kv.Value is JsonArray { Count: 2 } a && Number(a[0]) is not null && Number(a[1]) is not null)
            .ToDictionary(kv => kv.Key, kv => (Number(kv.Value![0])!.Value, Number(kv.Value[1])!.Value));
    }

    static JsonObject PredictionJson(MixturePrediction p) => new()
    {
        ["label"] = p.Mixture.Label,
        ["tokens"] = new JsonObject(p.Mixture.Tokens.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
        ["total_tokens"] = double.IsFinite(p.Mixture.TotalTokens) ? p.Mixture.TotalTokens : null,
        ["coherence"] = p.Coherence, ["readability"] = p.Readability, ["similarity"] = p.Similarity,
        ["loss"] = double.IsFinite(p.Loss) ? p.Loss : null, ["feasible"] = p.Feasible,
        ["elasticity"] = new JsonObject(p.Elasticity.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)(double.IsFinite(kv.Value) ? JsonValue.Create(kv.Value) : null)))),
    };

    static JsonObject PlanJson(MixturePlan plan) => new()
    {
        ["best"] = plan.Best is null ? null : PredictionJson(plan.Best),
        ["reachable_loss"] = plan.ReachableLoss,
        ["candidates"] = new JsonArray([.. plan.Candidates.Select(c => (JsonNode)PredictionJson(c))]),
        ["robust"] = new JsonObject(plan.Robustness.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
    };

    static void PrintPlan(MixturePlan plan, IReadOnlyList<SourceProfile> sources, double? budget, double? target)
    {
        var c = CultureInfo.InvariantCulture;
        string Line(MixturePrediction p) => string.Create(c, $"{p.Mixture.Label,-18} {p.Mixture.TotalTokens,10:G4} tokens  CH {p.Coherence:F3}  RA {p.Readability:F3}  SIM {p.Similarity:F3}  loss {p.Loss:F5}{(p.Feasible ? "" : "  (draws more than a source holds)")}");
        if (plan.Best is { } best)
        {
            Console.Out.WriteLine(budget is { } b ? string.Create(c, $"Lowest predicted loss within {b:G4} tokens:") : string.Create(c, $"Fewest tokens to reach loss {target:F5}:"));
            Console.Out.WriteLine("  " + Line(best));
            foreach (var s in sources.Where(s => best.Mixture.Tokens.GetValueOrDefault(s.Name) > 0))
                Console.Out.WriteLine(string.Create(c, $"    {s.Name,-16} {best.Mixture.Tokens[s.Name],10:G4} tokens ({best.Mixture.Tokens[s.Name] / best.Mixture.TotalTokens:P1}; {best.Mixture.Tokens[s.Name] / s.Tokens:P0} of what it holds)"));
            Console.Out.WriteLine("  elasticity of the loss (%/% of each coefficient): " + string.Join(", ", best.Elasticity.Select(kv => string.Create(c, $"{kv.Key} {kv.Value:+0.0000;-0.0000;0}"))));
        }
        else Console.Out.WriteLine(string.Create(c, $"No mixture of these sources reaches loss {target:F5}: all their tokens together predict {plan.ReachableLoss:F5}."));
        if (plan.Candidates.Count == 0) return;
        Console.Out.WriteLine(budget is null ? "Candidates, fewest tokens to the target first:" : "Candidates, lowest loss first:");
        foreach (var p in plan.Candidates) Console.Out.WriteLine("  " + Line(p));
        if (plan.Robustness.Count > 0)
        {
            var fragile = plan.Robustness.Where(kv => !kv.Value).Select(kv => kv.Key).ToList();
            Console.Out.WriteLine(fragile.Count == 0
                ? $"The choice of '{plan.Candidates[0].Mixture.Label}' holds with each coefficient at either end of its near-optimal range."
                : $"The choice of '{plan.Candidates[0].Mixture.Label}' changes within the near-optimal range of: {string.Join(", ", fragile)} — the samples do not settle it.");
        }
    }

    static ScalingLaw ReadLaw(string path)
    {
        var law = JsonNode.Parse(File.ReadAllText(path))?["law"] ?? throw new InvalidDataException($"{path}: no \"law\" object (write it with 'ziya2 scaling fit --out DIR')");
        double Get(string k) => law[k] is JsonValue v && v.TryGetValue<double>(out var x) && double.IsFinite(x) && x > 0 ? x
            : throw new InvalidDataException($"{path}: law.{k} must be a positive number (found {law[k]?.ToJsonString() ?? "nothing"})");
        return new ScalingLaw(Get("alpha"), Get("E"), Get("A"), Get("B"), Get("C"), Get("F"));
    }

    static JsonObject ToJson(FitResult r, double seconds)
    {
        var id = r.Identifiability;
        return new JsonObject
        {
            ["law"] = new JsonObject { ["alpha"] = r.Law.Alpha, ["E"] = r.Law.E, ["A"] = r.Law.A, ["B"] = r.Law.B, ["C"] = r.Law.C, ["F"] = r.Law.F },
            ["quality"] = new JsonObject { ["objective"] = r.Quality.Objective, ["rmse_log_loss"] = r.Quality.RmseLogLoss, ["max_relative_error"] = r.Quality.MaxRelativeError, ["r_squared"] = r.Quality.RSquared },
            ["identifiability"] = new JsonObject
            {
                ["distinct_attribute_rows"] = id.DistinctAttributeRows,
                ["attribute_singular_values"] = new JsonArray([.. id.AttributeSingularValues.Select(v => JsonValue.Create(v))]),
                ["curvature_eigenvalues"] = new JsonArray([.. id.CurvatureEigenvalues.Select(v => JsonValue.Create(v))]),
                ["weakest_direction"] = new JsonObject(id.WeakestDirection.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
                ["near_optimal_starts"] = id.NearOptimalStarts,
                ["near_optimal_ranges"] = new JsonObject(id.NearOptimalRanges.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)new JsonArray(kv.Value.Min, kv.Value.Max)))),
            },
            ["samples"] = r.Samples, ["starts"] = r.Starts, ["seconds"] = seconds,
        };
    }

    static void Print(FitResult r, double seconds, string? output)
    {
        var c = CultureInfo.InvariantCulture;
        var l = r.Law;
        Console.Out.WriteLine(string.Create(c, $"L(D) = D^(-{l.Alpha:G4}) + {l.E:G4};  D = ({l.A:G4}·CH + {l.B:G4}·RA + {l.C:G4}·SIM)·V + {l.F:G4}"));
        Console.Out.WriteLine(string.Create(c, $"fit: {r.Samples} samples, {r.Starts:N0} starts, {seconds:F1} s; Huber objective {r.Quality.Objective:G4}, RMSE(log L) {r.Quality.RmseLogLoss:G4}, max relative error {r.Quality.MaxRelativeError:P3}, R² {r.Quality.RSquared:F4}"));
        var id = r.Identifiability;
        Console.Out.WriteLine(string.Create(c, $"identifiability: {id.DistinctAttributeRows} distinct (CH, RA, SIM) rows, singular values {string.Join(" ", id.AttributeSingularValues.Select(v => v.ToString("G3", c)))}; " +
                                               $"curvature eigenvalues {string.Join(" ", id.CurvatureEigenvalues.Select(v => v.ToString("G3", c)))}"));
        Console.Out.WriteLine("  weakest direction (log-parameter loadings): " + string.Join(", ", id.WeakestDirection.Select(kv => string.Create(c, $"{kv.Key} {Loading(kv.Value):+0.00;-0.00;+0.00}"))));
        Console.Out.WriteLine(string.Create(c, $"  {id.NearOptimalStarts} start(s) within 0.1 % of the best: ") + string.Join(", ", id.NearOptimalRanges.Select(kv => string.Create(c, $"{kv.Key} [{kv.Value.Min:G3}, {kv.Value.Max:G3}]"))));
        if (output is not null) Console.Out.WriteLine($"wrote {Path.Combine(output, "fit.json")} and loss-vs-{{coherence,readability,similarity}}.png");
    }

    /// <summary>A loading rounded for printing, with a negative zero made positive (it would print as "-+0.00").</summary>
    static double Loading(double value) => Math.Round(value, 2) is var r && r == 0 ? 0.0 : r;
}
