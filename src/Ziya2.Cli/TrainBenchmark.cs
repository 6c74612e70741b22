using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Ziya2.Kernel.Hosting;
using Ziya2.Events;
using Ziya2.Models;
using Ziya2.Optimization;
using Ziya2.Plugins;
using Ziya2.Training;
using Ziya2.Training.Data;
using static TorchSharp.torch;

namespace Ziya2.Cli;

/// <summary>
/// <c>ziya2 train bench</c>: the training engine's loop against a minimal hand-written TorchSharp loop on the same model
/// configuration, optimizer and batches, alternating in one process: tokens/s, MFU against the measured matmul peak,
/// the framework overhead ratio, and resident memory at the start and end of the engine's run (flat = no leak).
/// </summary>
static class TrainBenchmark
{
    public static Command Create(Option<string[]> plugins, Option<LogLevel> logLevel)
    {
        var presets = new Option<string>("--presets") { Description = "Comma-separated llama presets", DefaultValueFactory = _ => "tiny,small-100m" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 4 };
        var seq = new Option<int>("--seq-len") { DefaultValueFactory = _ => 128 };
        var steps = new Option<int>("--steps") { Description = "Steps per timed run", DefaultValueFactory = _ => 20 };
        var rounds = new Option<int>("--rounds") { Description = "Alternating rounds (hand loop, engine); the median is reported", DefaultValueFactory = _ => 3 };
        var bench = new Command("bench", "Engine loop vs a hand-written TorchSharp loop: tokens/s, MFU, overhead, memory") { presets, batch, seq, steps, rounds, plugins, logLevel };
        bench.SetAction(r =>
        {
            using var loggers = Logging.Create(LogFormat.Text, r.GetValue(logLevel));
            double peak = MatmulPeak.Measure();
            Console.Out.WriteLine($"matmul peak (fp32, 1024², {get_num_threads()} threads): {peak / 1e9:F1} GFLOP/s");
            var work = Directory.CreateTempSubdirectory("ziya2-train-bench-").FullName;
            try
            {
                foreach (var preset in r.GetValue(presets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    Run(loggers, r.GetValue(plugins) ?? [], preset, r.GetValue(batch), r.GetValue(seq), r.GetValue(steps), r.GetValue(rounds), peak, Path.Combine(work, preset));
            }
            finally { Directory.Delete(work, recursive: true); }
            return ExitCodes.Ok;
        });
        return new Command("train", "The training engine") { bench };
    }

    static void Run(ILoggerFactory loggers, string[] plugins, string preset, int batch, int seq, int steps, int rounds, double peak, string work)
    {
        var host = new Ziya2Host(loggers, Console.Out, Console.Error);
        var lifetimes = new List<IDisposable>();
        T Make<T>(ComponentKind kind, string name, string section, params string[] overrides)
        {
            var (component, lifetime) = host.CreateComponent(kind, name, section, overrides, plugins);
            lifetimes.Add(lifetime);
            return (T)component;
        }
        var model = Make<ILanguageModel>(TensorComponentKinds.Model, "llama", "model", $"model.preset={preset}", "model.precision=fp32");
        var rng = new Random(7);
        var file = TokenFileBuilder.Write(Path.Combine(work, "tokens"),
            Enumerable.Range(0, 2000).Select(_ => (Enumerable.Range(0, rng.Next(50, 400)).Select(_ => rng.Next(3, model.VocabSize)).ToArray(), 0)), model.VocabSize, "synthetic");
        MixtureSampler Sampler() => new([new MixtureSource("synthetic", file, PackingMode.Documents, 1)], seq, 2, 0, 11);
        var optimizer = Make<IOptimizerFactory>(TensorComponentKinds.Optimizer, "adamw", "optimizer").Create(model.GetParameterGroups());
        var schedule = Make<ILearningRateScheduler>(ComponentKind.Scheduler, "constant", "scheduler", "scheduler.lr=1e-4");
        double flopsPerToken = model.TrainingFlopsPerToken(seq);
        var hand = new List<double>();
        var engine = new List<double>();
        var rss = new List<double>();

        for (int round = 0; round < rounds + 1; round++)   // round 0 warms up both loops and is not reported
        {
            // Alternate which loop goes first, so warm caches or a noisy neighbour favour neither.
            double handRate = 0, engineRate = 0;
            if (round % 2 == 0) { handRate = HandLoop(); engineRate = EngineLoop(round); }
            else { engineRate = EngineLoop(round); handRate = HandLoop(); }
            if (round == 0) { rss.Clear(); continue; }
            hand.Add(handRate);
            engine.Add(engineRate);
        }

        // The hand-written loop: what a nanoGPT-style C# script does, with the same data source, clip and optimizer.
        double HandLoop()
        {
            var sampler = Sampler();
            model.Module.train();
            var clock = Stopwatch.StartNew();
            for (int step = 0; step < steps; step++)
            {
                using var scope = NewDisposeScope();
                optimizer.ZeroGrad();
                var seqs = Enumerable.Range(0, batch).Select(_ => sampler.Next().Sequence).ToArray();
                var x = tensor(seqs.SelectMany(s => s.Inputs).Select(i => (long)i).ToArray()).view(batch, seq);
                var y = tensor(seqs.SelectMany(s => s.Targets).Select(i => (long)i).ToArray());
                var loss = nn.functional.cross_entropy(model.Forward(x).view(-1, model.VocabSize), y);
                loss.backward();
                nn.utils.clip_grad_norm_(model.Module.parameters(), 1.0);
                optimizer.Step();
                _ = loss.item<float>();
            }
            return (double)steps * batch * seq / clock.Elapsed.TotalSeconds;
        }

        double EngineLoop(int round)
        {
            var options = new TrainerOptions { SequenceLength = seq, MicroBatch = batch, LogEvery = Math.Max(1, steps / 4), CheckpointEvery = int.MaxValue, PeakFlops = peak };
            // Each metrics record covers the steps since the previous one; the first (step 0, with the warm-up) is left out.
            var intervals = new List<(long Steps, double Rate)>();
            long previous = -1;
            var events = new EventBus();
            events.Subscribe(e =>
            {
                if (e.Name != RunEvents.Metrics) return;
                if (previous >= 0) intervals.Add((e.Step - previous, e.Get("tokens_per_second")));
                previous = e.Step; rss.Add(e.Get("rss_mb"));
            });
            var trainer = new Trainer(model, optimizer, schedule, options, new CheckpointStore(Path.Combine(work, $"run{round}"), 1), "bench", events);
            trainer.Run(new StageSpec("bench", Sampler(), steps));
            Directory.Delete(Path.Combine(work, $"run{round}"), recursive: true);
            return intervals.Sum(i => i.Steps) / intervals.Sum(i => i.Steps / i.Rate);   // total tokens / total time
        }
        double h = Median(hand), e = Median(engine);
        Console.Out.WriteLine($"{preset,-12} {model.ParameterCount,13:N0} params  batch {batch}×{seq}: hand loop {h,8:F0} tok/s (MFU {h * flopsPerToken / peak:P1}), " +
                              $"engine {e,8:F0} tok/s (MFU {e * flopsPerToken / peak:P1}); engine/hand {e / h:F3}; engine RSS {rss.First():F0} → {rss.Last():F0} MB over {rounds * steps} steps");
        optimizer.Dispose();
        file.Dispose();
        foreach (var l in lifetimes) l.Dispose();
    }

    static double Median(List<double> xs) { var s = xs.Order().ToList(); return s[s.Count / 2]; }
}
