using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Ziya2.Evaluation;
using Ziya2.Kernel.Hosting;
using Ziya2.Scaling;

namespace Ziya2.Cli;

/// <summary><c>ziya2 eval &lt;checkpoint&gt;</c>: the paper's benchmarks (§6) in their released formats.</summary>
static class EvalCommand
{
    public static Command Create(Option<string[]> plugins, Option<LogLevel> logLevel)
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "Model checkpoint directory (config.json, safetensors; tokenizer.model unless --tokenizer)" };
        var set = new Option<string[]>("--set") { Description = "Model option, e.g. --set precision=bf16_mixed", Arity = ArgumentArity.ZeroOrMore };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "tokenizer.model (default: the checkpoint's)" };
        var mmlu = new Option<string?>("--mmlu") { Description = "MMLU data directory (dev/, test/)" };
        var cmmlu = new Option<string?>("--cmmlu") { Description = "CMMLU directory (dev/, test/)" };
        var ceval = new Option<string?>("--ceval") { Description = "C-Eval directory (dev/, val/)" };
        var gsm8k = new Option<string?>("--gsm8k") { Description = "GSM8K test.jsonl" };
        var gsm8kShots = new Option<string?>("--gsm8k-shots") { Description = "GSM8K train.jsonl for the few-shot examples" };
        var math = new Option<string?>("--math") { Description = "MATH test directory (*.json) or JSONL" };
        var mathShots = new Option<string?>("--math-shots") { Description = "MATH train directory or JSONL for the few-shot examples" };
        var humaneval = new Option<string?>("--humaneval") { Description = "HumanEval.jsonl (completions run in a bubblewrap sandbox)" };
        var unsafeExec = new Option<bool>("--unsafe-exec") { Description = "Without bubblewrap, run HumanEval's model-written code in a plain subprocess anyway: it can read your files and use the network" };
        var heldout = new Option<string[]>("--heldout") { Description = "Held-out perplexity of a source: name=DIR, a token directory made with the same tokenizer ('ziya2 data tokenize')", Arity = ArgumentArity.ZeroOrMore };
        var shots = new Option<int>("--shots") { Description = "Few-shot examples (paper: 5)", DefaultValueFactory = _ => 5 };
        var limit = new Option<int>("--limit") { Description = "At most this many items per subject / benchmark", DefaultValueFactory = _ => int.MaxValue };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Generation budget for GSM8K, MATH, HumanEval", DefaultValueFactory = _ => 256 };
        var output = new Option<string?>("--out") { Description = "Write the results as JSON here" };
        var samples = new Option<string?>("--scaling-samples") { Description = "Append one scaling-law sample per benchmark (its answer loss) to this CSV" };
        var tokens = new Option<double?>("--tokens") { Description = "Scaling samples: tokens the model was trained on (V)" };
        var coherence = new Option<double?>("--coherence") { Description = "Scaling samples: coherence of the training data" };
        var readability = new Option<double?>("--readability") { Description = "Scaling samples: readability of the training data" };
        var similarity = new Option<string[]>("--similarity") { Description = "Scaling samples: benchmark=value, the data's similarity to each benchmark", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("eval", "Evaluate a checkpoint on MMLU, CMMLU, C-Eval, GSM8K, MATH and HumanEval (OpenCompass-style prompts)")
        {
            checkpoint, set, tokenizer, mmlu, cmmlu, ceval, gsm8k, gsm8kShots, math, mathShots, humaneval, unsafeExec, heldout, shots, limit, maxNew, output,
            samples, tokens, coherence, readability, similarity, plugins, logLevel,
        };
        command.SetAction((r, ct) => Task.FromResult(r.GetValue(humaneval) is not null && HumanEvalBenchmark.SandboxFor(r.GetValue(unsafeExec)) is (null, var refused)
            // Refused before the model is loaded: model-written code runs confined or not at all, unless asked for by name.
            ? Refuse(refused!)
            : ModelCommands.Run(r, checkpoint, set, plugins, logLevel, (m, stdout) =>
        {
            using var loggers = Logging.Create(LogFormat.Text, r.GetValue(logLevel));
            TokenizerCommands.OpenTokenizer? own = r.GetValue(tokenizer) is { } path ? TokenizerCommands.Open(loggers, path, r.GetValue(plugins) ?? []) : null;
            try
            {
                var t = own?.Tokenizer ?? m.Tokenizer() ?? throw new ArgumentException("no tokenizer.model in the checkpoint: pass --tokenizer");
                // Scaling-sample options are checked before hours of evaluation, not after.
                var named = new (Option<string?> Option, string Name)[] { (mmlu, "mmlu"), (cmmlu, "cmmlu"), (ceval, "ceval"), (gsm8k, "gsm8k"), (math, "math"), (humaneval, "humaneval") }
                    .Where(x => r.GetValue(x.Option) is not null).Select(x => x.Name).ToList();
                var sims = r.GetValue(samples) is null ? null : ScalingOptions(named, r.GetValue(tokens), r.GetValue(coherence), r.GetValue(readability), r.GetValue(similarity) ?? []);
                var scorer = new LanguageModelScorer(m.Model, t);
                int k = r.GetValue(shots), n = r.GetValue(limit), budget = r.GetValue(maxNew);
                var results = new List<BenchmarkResult>();
                void Add(BenchmarkResult result)
                {
                    results.Add(result);
                    stdout.WriteLine(result.Skipped is { } why ? $"{result.Benchmark,-10} skipped: {why}"
                        : string.Create(CultureInfo.InvariantCulture, $"{result.Benchmark,-10} {result.Metric} {100 * result.Score,6:F2} over {result.Count} items; answer loss {result.AnswerLoss:F4} nats/token"));
                }
                if (r.GetValue(mmlu) is { } a) Add(MultipleChoiceBenchmark.Mmlu(a).Run(scorer, k, n, ct));
                if (r.GetValue(cmmlu) is { } b) Add(MultipleChoiceBenchmark.Cmmlu(b).Run(scorer, k, n, ct));
                if (r.GetValue(ceval) is { } c) Add(MultipleChoiceBenchmark.Ceval(c).Run(scorer, k, n, ct));
                if (r.GetValue(gsm8k) is { } g) Add(MathBenchmark.Gsm8k(g, r.GetValue(gsm8kShots)).Run(scorer, k, budget, n, ct));
                if (r.GetValue(math) is { } mm) Add(MathBenchmark.Math(mm, r.GetValue(mathShots)).Run(scorer, k, budget, n, ct));
                if (r.GetValue(humaneval) is { } h)
                {
                    var code = HumanEvalBenchmark.Read(h, r.GetValue(unsafeExec));
                    Console.Error.WriteLine(code.Sandbox!.Confined ? $"HumanEval: completions run in {code.Sandbox.Description}"
                        : $"warning: HumanEval: completions run UNCONFINED ({code.Sandbox.Description}): model-written code can read your files and use the network");
                    Add(code.Run(scorer, budget, n, ct));
                }
                foreach (var spec in r.GetValue(heldout) ?? [])
                {
                    var parts = spec.Split('=', 2);
                    if (parts.Length != 2) throw new ArgumentException($"--heldout '{spec}': expected name=DIR");
                    using var file = Ziya2.Training.Data.TokenFile.Open(parts[1], Ziya2.Training.Data.TokenFileBuilder.Hash(t));
                    var (loss, count) = Ziya2.Training.Evaluation.HeldOutLoss.Measure(m.Model, file, m.Model.MaxSequenceLength, maxDocuments: n);
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"heldout {parts[0],-10} loss {loss:F4} nats/token, perplexity {Math.Exp(loss):F2} over {count:N0} tokens"));
                    results.Add(new BenchmarkResult($"heldout:{parts[0]}", "perplexity", Math.Exp(loss), (int)Math.Min(file.Documents, n), loss, new Dictionary<string, double>()));
                }
                if (results.Count == 0) throw new ArgumentException("name at least one benchmark (--mmlu, --cmmlu, --ceval, --gsm8k, --math, --humaneval, --heldout)");

                // Table 3 for reference: only meaningful for a 13B model, so shown when the model is in that class.
                bool thirteen = m.Model.ParameterCount > 10e9;
                if (thirteen)
                    foreach (var (model, scores) in PaperReference.Table3)
                        stdout.WriteLine($"  paper, {model}: " + string.Join(", ", results.Where(x => scores.ContainsKey(x.Benchmark)).Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Benchmark} {scores[x.Benchmark]:F2}"))));
                if (r.GetValue(output) is { } outPath)
                {
                    var json = JsonSerializer.Serialize(new
                    {
                        checkpoint = Path.GetFullPath(r.GetValue(checkpoint)!), parameters = m.Model.ParameterCount, shots = k,
                        results, paper_table3 = thirteen ? PaperReference.Table3 : null,
                    }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });
                    AtomicFile.WriteAllText(outPath, json);
                }
                if (r.GetValue(samples) is { } csv) AppendSamples(csv, results, r.GetValue(tokens)!.Value, r.GetValue(coherence)!.Value, r.GetValue(readability)!.Value, sims!, r.GetValue(checkpoint)!);
                return ExitCodes.Ok;
            }
            finally { own?.Dispose(); }
        })));
        return command;
    }

    /// <summary>The per-benchmark similarities, after checking every scaling-sample option (values in [0, 1], one similarity per benchmark run).</summary>
    static Dictionary<string, double> ScalingOptions(IReadOnlyList<string> benchmarks, double? tokens, double? coherence, double? readability, string[] similarity)
    {
        if (tokens is not >= 0 || coherence is null || readability is null) throw new ArgumentException("--scaling-samples needs --tokens (>= 0), --coherence and --readability");
        var sims = similarity.Select(s => s.Split('=', 2)).ToDictionary(
            p => p[0], p => p.Length == 2 && double.TryParse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"--similarity '{string.Join('=', p)}': expected benchmark=value"));
        foreach (var (name, v) in sims.Append(new("coherence", coherence.Value)).Append(new("readability", readability.Value)))
            if (v is < 0 or > 1) throw new ArgumentException($"{name} {v} is outside [0, 1]");
        var missing = benchmarks.Where(b => !sims.ContainsKey(b)).ToList();
        if (missing.Count > 0) throw new ArgumentException($"--similarity has no value for {string.Join(", ", missing)}");
        return sims;
    }

    static void AppendSamples(string path, IReadOnlyList<BenchmarkResult> results, double tokens, double coherence, double readability, Dictionary<string, double> sims, string checkpoint)
    {
        // Benchmarks only: held-out perplexities are not benchmark test losses.
        var scored = results.Where(x => x.Skipped is null && x.Metric != "perplexity" && double.IsFinite(x.AnswerLoss)).ToList();
        ScalingSamples.Append(path, scored.Select(x => (new ScalingSample(tokens, coherence, readability, sims[x.Benchmark], x.AnswerLoss),
            (IReadOnlyList<string>)[x.Benchmark, Path.GetFullPath(checkpoint)])), ["benchmark", "checkpoint"]);
    }

    static int Refuse(string why)
    {
        Console.Error.WriteLine($"error: {why}");
        return ExitCodes.InvalidInput;
    }
}
