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
        return new Command("train", "The training engine") { bench, ScalingCommand(plugins, logLevel) };
    }

    /// <summary>
    /// <c>ziya2 train scaling --ranks N</c>: data-parallel throughput of the engine, N ranks under MPICH's mpiexec against
    /// one, each rank with the same threads and micro-batch: tokens/s of both, their ratio and the efficiency (ratio ÷ N).
    /// Each run is this command again with <c>--worker</c>, as mpiexec starts it.
    /// </summary>
    static Command ScalingCommand(Option<string[]> plugins, Option<LogLevel> logLevel)
    {
        var ranks = new Option<int>("--ranks") { Description = "Ranks to compare with one", DefaultValueFactory = _ => 2 };
        var preset = new Option<string>("--preset") { Description = "llama preset", DefaultValueFactory = _ => "small-100m" };
        var batch = new Option<int>("--batch") { Description = "Sequences per rank per step", DefaultValueFactory = _ => 2 };
        var seq = new Option<int>("--seq-len") { DefaultValueFactory = _ => 128 };
        var steps = new Option<int>("--steps") { Description = "Timed steps (after 2 warm-up steps)", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "Threads per rank", DefaultValueFactory = _ => 1 };
        var zero = new Option<int>("--zero-stage") { Description = "ZeRO stage: 0 (plain data parallel), 1 (optimizer state sharded), 2 (gradients too)", DefaultValueFactory = _ => 0 };
        var worker = new Option<string?>("--worker") { Hidden = true, Description = "A rank of one measurement, working in the given shared directory" };
        var command = new Command("scaling", "Data-parallel throughput: N ranks (mpiexec) against one — tokens/s, ratio, efficiency")
            { ranks, preset, batch, seq, steps, threads, zero, worker, plugins, logLevel };
        command.SetAction(r => InvalidInput.Guard(() =>
        {
            string[] common = ["train", "scaling", "--preset", r.GetValue(preset)!, "--batch", r.GetValue(batch).ToString(), "--seq-len", r.GetValue(seq).ToString(),
                               "--steps", r.GetValue(steps).ToString(), "--threads", r.GetValue(threads).ToString(), "--zero-stage", r.GetValue(zero).ToString(),
                               .. (r.GetValue(plugins) ?? []).SelectMany(p => new[] { "--plugins", Path.GetFullPath(p) })];
            if (r.GetValue(worker) is { } shared)
            {
                using var loggers = Logging.Create(LogFormat.Text, r.GetValue(logLevel));
                var rate = ScalingWorker(loggers, r.GetValue(plugins) ?? [], shared, r.GetValue(preset)!, r.GetValue(batch), r.GetValue(seq), r.GetValue(steps), r.GetValue(threads), r.GetValue(zero));
                if (rate is { } tokensPerSecond) Console.Out.WriteLine($"tokens_per_second {tokensPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
                return ExitCodes.Ok;
            }
            int n = r.GetValue(ranks);
            if (n < 2) throw new ArgumentException("--ranks must be >= 2");
            if (r.GetValue(zero) is not (0 or 1 or 2)) throw new ArgumentException("--zero-stage must be 0, 1 or 2");
            var self = Environment.ProcessPath!;
            var entry = System.Reflection.Assembly.GetEntryAssembly()!.Location;
            string[] start = Path.GetFileNameWithoutExtension(self) == "dotnet" ? [self, entry] : [self];
            double Measure(int count)
            {
                var shared = Directory.CreateTempSubdirectory("ziya2-scaling-").FullName;   // the ranks' checkpoints: one directory all of them see
                using var cleanup = new Cleanup(shared);
                var (code, stdout, stderr) = Ziya2.Distributed.Shell.Run("mpiexec", ["-n", count.ToString(), .. start, .. common, "--worker", shared]);
                var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("tokens_per_second ", StringComparison.Ordinal));
                if (code != 0 || line is null) throw new InvalidOperationException($"the {count}-rank run failed (exit {code}):\n{stdout}{stderr}");
                return double.Parse(line["tokens_per_second ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
            double one = Measure(1), many = Measure(n);
            Console.Out.WriteLine($"{r.GetValue(preset)} batch {r.GetValue(batch)}×{r.GetValue(seq)} per rank, {r.GetValue(threads)} thread(s) per rank{(r.GetValue(zero) > 0 ? $", ZeRO-{r.GetValue(zero)}" : "")}: " +
                                  $"1 rank {one:F0} tok/s, {n} ranks {many:F0} tok/s; ratio {many / one:F2}, efficiency {many / one / n:P0}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    sealed class Cleanup(string directory) : IDisposable
    {
        public void Dispose() { try { Directory.Delete(directory, recursive: true); } catch (IOException) { } }
    }

    /// <summary>One rank of a scaling run: global tokens/s over the timed steps, on rank 0 (null on the others).</summary>
    static double? ScalingWorker(ILoggerFactory loggers, string[] plugins, string work, string preset, int batch, int seq, int steps, int threads, int zero)
    {
        set_num_threads(threads);
        var group = Ziya2.Distributed.ProcessGroups.Current;
        using var components = new BenchComponents(loggers, plugins);
        var model = components.Make<ILanguageModel>(TensorComponentKinds.Model, "llama", "model", $"model.preset={preset}", "model.precision=fp32");
        using var file = BenchComponents.SyntheticTokens(Path.Combine(work, $"tokens-{group.Rank}"), model.VocabSize);
        var factory = components.Make<IOptimizerFactory>(TensorComponentKinds.Optimizer, "adamw", "optimizer");
        if (zero > 0) factory = Ziya2.Training.Distributed.ShardedOptimizer.Factory(factory, group, zero);
        using var optimizer = factory.Create(model.GetParameterGroups());
        var schedule = components.Make<ILearningRateScheduler>(ComponentKind.Scheduler, "constant", "scheduler", "scheduler.lr=1e-4");
        // Two warm-up steps, then the timed ones, measured from the engine's own step events on rank 0.
        var options = new TrainerOptions { SequenceLength = seq, MicroBatch = batch, LogEvery = int.MaxValue, CheckpointEvery = int.MaxValue, PeakFlops = 1 };
        var ends = new List<long>();
        var events = new EventBus();
        events.Subscribe(e => { if (e.Name == RunEvents.StepEnd) ends.Add(Stopwatch.GetTimestamp()); });
        new Trainer(model, optimizer, schedule, options, new CheckpointStore(Path.Combine(work, "run"), 1), "scaling", events, group: group)
            .Run(new StageSpec("scaling", new MixtureSampler([new MixtureSource("synthetic", file, PackingMode.Documents, 1)], seq, 2, 0, 11), steps + 2));
        if (group.Rank != 0) return null;
        var seconds = Stopwatch.GetElapsedTime(ends[1], ends[^1]).TotalSeconds;
        return (double)steps * batch * seq * group.WorldSize / seconds;
    }

    static void Run(ILoggerFactory loggers, string[] plugins, string preset, int batch, int seq, int steps, int rounds, double peak, string work)
    {
        using var components = new BenchComponents(loggers, plugins);
        var model = components.Make<ILanguageModel>(TensorComponentKinds.Model, "llama", "model", $"model.preset={preset}", "model.precision=fp32");
        var file = BenchComponents.SyntheticTokens(Path.Combine(work, "tokens"), model.VocabSize);
        MixtureSampler Sampler() => new([new MixtureSource("synthetic", file, PackingMode.Documents, 1)], seq, 2, 0, 11);
        var optimizer = components.Make<IOptimizerFactory>(TensorComponentKinds.Optimizer, "adamw", "optimizer").Create(model.GetParameterGroups());
        var schedule = components.Make<ILearningRateScheduler>(ComponentKind.Scheduler, "constant", "scheduler", "scheduler.lr=1e-4");
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
    }

    static double Median(List<double> xs) { var s = xs.Order().ToList(); return s[s.Count / 2]; }
}

/// <summary>A benchmark's components, built from the plugins as a recipe gets them and disposed together, and its data.</summary>
sealed class BenchComponents(ILoggerFactory loggers, string[] plugins) : IDisposable
{
    readonly Ziya2Host _host = new(loggers, Console.Out, Console.Error);
    readonly List<IDisposable> _lifetimes = [];

    public T Make<T>(ComponentKind kind, string name, string section, params string[] overrides)
    {
        var (component, lifetime) = _host.CreateComponent(kind, name, section, overrides, plugins);
        _lifetimes.Add(lifetime);
        return (T)component;
    }

    /// <summary>2,000 documents of 50–400 random tokens (seed 7): the same bytes in every process.</summary>
    public static TokenFile SyntheticTokens(string path, int vocabulary)
    {
        var rng = new Random(7);
        return TokenFileBuilder.Write(path, Enumerable.Range(0, 2000).Select(_ => (Enumerable.Range(0, rng.Next(50, 400)).Select(_ => rng.Next(3, vocabulary)).ToArray(), 0)), vocabulary, "synthetic");
    }

    public void Dispose()
    {
        foreach (var l in _lifetimes) l.Dispose();
    }
}
