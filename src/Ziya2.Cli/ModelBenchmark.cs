using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Ziya2.Kernel.Hosting;
using Ziya2.Models;
using Ziya2.Plugins;
using static TorchSharp.torch;

namespace Ziya2.Cli;

/// <summary>
/// <c>ziya2 model bench</c>: times forward+backward of model presets and reports tokens/s and achieved FLOP/s as a
/// fraction of this machine's matmul peak in the same precision, measured in the same process.
/// </summary>
static class ModelBenchmark
{
    public static Command Create(Option<string[]> plugins, Option<LogLevel> logLevel)
    {
        var presets = new Option<string>("--presets") { Description = "Comma-separated llama presets", DefaultValueFactory = _ => "tiny,small-100m" };
        var precision = new Option<string>("--precision") { Description = "fp32, bf16_mixed or bf16", DefaultValueFactory = _ => "fp32" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 4 };
        var seq = new Option<int>("--seq-len") { DefaultValueFactory = _ => 256 };
        var steps = new Option<int>("--steps") { Description = "Timed steps per preset (median reported)", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { DefaultValueFactory = _ => 2 };
        var json = new Option<bool>("--json");
        var bench = new Command("bench", "Forward+backward throughput vs the measured matmul peak") { presets, precision, batch, seq, steps, warmup, json, plugins, logLevel };
        bench.SetAction(r =>
        {
            using var loggers = Logging.Create(LogFormat.Text, r.GetValue(logLevel));
            var p = r.GetValue(precision)!;
            var computeDtype = p == "fp32" ? ScalarType.Float32 : ScalarType.BFloat16;
            var (peak, size) = MatmulPeak(computeDtype);
            var rows = new List<Dictionary<string, object>>();
            Console.Error.WriteLine($"matmul peak ({computeDtype}, {size}², {get_num_threads()} threads): {peak / 1e9:F1} GFLOP/s");
            if (computeDtype != ScalarType.Float32 && MatmulPeak(ScalarType.Float32).FlopsPerSecond > 2 * peak)
                Console.Error.WriteLine("warning: bf16 matmul is slower than fp32 on this CPU (no AVX512-BF16/AMX); bf16 precision pays off on GPUs and such CPUs only");
            foreach (var preset in r.GetValue(presets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var host = new Ziya2Host(loggers, Console.Out, Console.Error);
                var (component, lifetime) = host.CreateComponent(TensorComponentKinds.Model, "llama", "model",
                    [$"model.preset={preset}", $"model.precision={p}"], r.GetValue(plugins) ?? []);
                using (lifetime)
                {
                    var model = (ILanguageModel)component;
                    int b = r.GetValue(batch), t = r.GetValue(seq);
                    var median = StepSeconds(model, b, t, r.GetValue(warmup), r.GetValue(steps));
                    double tokensPerSecond = b * t / median, flops = model.TrainingFlopsPerToken(t) * tokensPerSecond;
                    rows.Add(new()
                    {
                        ["preset"] = preset, ["precision"] = p, ["parameters"] = model.ParameterCount, ["batch"] = b, ["seq_len"] = t,
                        ["step_seconds"] = median, ["tokens_per_second"] = tokensPerSecond, ["achieved_gflops"] = flops / 1e9,
                        ["matmul_peak_gflops"] = peak / 1e9, ["fraction_of_peak"] = flops / peak,
                    });
                    Console.Error.WriteLine($"{preset,-12} {model.ParameterCount,13:N0} params  {median * 1000,8:F0} ms/step  {tokensPerSecond,9:F0} tok/s  {flops / 1e9,7:F1} GFLOP/s  {flops / peak:P0} of peak");
                }
            }
            if (r.GetValue(json)) Console.Out.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
            return ExitCodes.Ok;
        });
        return bench;
    }

    /// <summary>Median seconds per training step (forward, float32 cross-entropy, backward) on random tokens.</summary>
    static double StepSeconds(ILanguageModel model, int batch, int seqLen, int warmup, int steps)
    {
        model.Module.train();
        var generator = new Generator(1234);
        var times = new List<double>();
        for (int i = 0; i < warmup + steps; i++)
        {
            using var scope = NewDisposeScope();
            var tokens = randint(0, model.VocabSize, [batch, seqLen + 1], dtype: ScalarType.Int64, generator: generator);
            var clock = Stopwatch.StartNew();
            foreach (var p in model.Module.parameters()) p.grad = null;
            var logits = model.Forward(tokens[.., ..^1]);
            var loss = nn.functional.cross_entropy(logits.reshape(-1, model.VocabSize), tokens[.., 1..].reshape(-1));
            loss.backward();
            _ = loss.item<float>();
            if (i >= warmup) times.Add(clock.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>
    /// FLOP/s of a square matmul in <paramref name="dtype"/>: median of up to 10 timed runs after a warm-up, within a
    /// few seconds. The size shrinks from 2048 when the kernel is slow (bf16 without AVX512-BF16 runs ~100× slower
    /// than fp32), so the measurement stays short.
    /// </summary>
    internal static (double FlopsPerSecond, int Size) MatmulPeak(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        for (int n = 2048; ; n /= 2)
        {
            var a = randn(n, n).to_type(dtype);
            var b = randn(n, n).to_type(dtype);
            var warm = Stopwatch.StartNew();
            a.matmul(b).Dispose();
            if (warm.Elapsed.TotalSeconds > 1.0 && n > 256) continue;
            var times = new List<double>();
            var budget = Stopwatch.StartNew();
            while (times.Count < 10 && (times.Count < 3 || budget.Elapsed.TotalSeconds < 3))
            {
                var clock = Stopwatch.StartNew();
                a.matmul(b).Dispose();
                times.Add(clock.Elapsed.TotalSeconds);
            }
            times.Sort();
            return (2.0 * n * n * n / times[times.Count / 2], n);
        }
    }
}
