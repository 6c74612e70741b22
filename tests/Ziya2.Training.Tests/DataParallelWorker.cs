using System.Diagnostics;
using System.Text.Json;
using Ziya2.Plugins.Llama;
using Ziya2.Plugins.Optimizers;
using Ziya2.Plugins.Schedulers;
using Ziya2.Training.Data;
using Ziya2.Distributed;
using Ziya2.Training.Distributed;
using static TorchSharp.torch;

namespace Ziya2.Training.Tests;

/// <summary>
/// This assembly as a program: <c>train DIR MICRO STEPS [--kill-after N] [--zero|--zero2] [--lion] [--accumulate K]</c> trains the tiny LLaMA of
/// the trainer tests for STEPS steps at micro-batch MICRO in DIR (checkpoints every 3 steps) and writes each rank's final
/// weights to <c>DIR/weights.RANK.bin</c>. Started alone it is one process; under <c>mpiexec -n R</c>, R data-parallel
/// ranks; <c>--zero</c> shards the optimizer (ZeRO-1), <c>--zero2</c> gradients too (ZeRO-2), <c>--accumulate K</c> accumulates K micro-batches per step, <c>--lion</c> uses Lion instead of AdamW. With
/// <c>--kill-after N</c>, the last rank kills itself (SIGKILL) once the checkpoint of step N exists. SIGTERM interrupts
/// the run (as the CLI's handler does); each rank writes <c>DIR/pid.RANK</c> when it starts and
/// <c>DIR/result.RANK</c> (steps done, interrupted) when it returns.
/// </summary>
public static class DataParallelWorker
{
    public static int Main(string[] args)
    {
        if (args is ["collectives", var where]) return Collectives(where);
        if (args is not ["train", var dir, var micro, var steps, ..]) { Console.Error.WriteLine("usage: train DIR MICRO STEPS [--kill-after N] [--zero] [--lion]"); return 2; }
        var flags = args[4..].ToList();
        set_num_threads(1);
        var group = ProcessGroups.Current;
        Directory.CreateDirectory(dir);
        using var interrupt = new CancellationTokenSource();
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; interrupt.Cancel(); });
        File.WriteAllText(Path.Combine(dir, $"pid.{group.Rank}"), Environment.ProcessId.ToString());
        if (flags.IndexOf("--kill-after") is >= 0 and var k && group.Rank == group.WorldSize - 1) KillAfter(Path.Combine(dir, "checkpoints", $"general-{long.Parse(flags[k + 1]):D8}"));

        // Each rank builds the token files in its own directory (the same bytes), so no two processes write one file.
        var data = Path.Combine(dir, $"data-{group.Rank}");
        var g = Path.Combine(data, "g.jsonl");
        var s = Path.Combine(data, "s.jsonl");
        Directory.CreateDirectory(data);
        File.WriteAllLines(g, Enumerable.Range(0, 40).Select(i => JsonSerializer.Serialize(new { id = $"g{i}", text = string.Concat(Enumerable.Repeat("thequickbrownfox", 1 + i % 3)) })));
        File.WriteAllLines(s, Enumerable.Range(0, 20).Select(i => JsonSerializer.Serialize(new { id = $"s{i}", text = "whatisabanswerab", attributes = new { prompt_chars = 10 } })));
        var general = TokenFileBuilder.Build([g], new LetterTokenizer(), Path.Combine(data, "tok-g"));
        var sft = TokenFileBuilder.Build([s], new LetterTokenizer(), Path.Combine(data, "tok-s"));
        // Samples mode masks the prompts: ranks see different numbers of counted tokens, which the loss must allow for.
        var sampler = new MixtureSampler(Replay.ByRatio([new("sft", sft, PackingMode.Samples, 1)], [new("general", general, PackingMode.Documents, 1)], 0.5), 16, LetterTokenizer.Eos, LetterTokenizer.Pad, 1);

        // Rank 1 starts from other weights than rank 0: the broadcast must make them the same.
        using var model = new LlamaModel(new LlamaOptions
        {
            VocabSize = 29, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2, MaxPositionEmbeddings = 32, Seed = 3 + group.Rank,
        });
        Ziya2.Optimization.IOptimizerFactory factory = flags.Contains("--lion") ? new LionFactory(new LionOptions { Lr = 3e-4 }) : new AdamWFactory(new AdamWOptions { Lr = 3e-3 });
        if (flags.Contains("--zero")) factory = ShardedOptimizer.Factory(factory, group);
        if (flags.Contains("--zero2")) factory = ShardedOptimizer.Factory(factory, group, stage: 2);
        using var optimizer = factory.Create(((Ziya2.Models.ILanguageModel)model).GetParameterGroups());
        var schedule = new CosineWithWarmup(new CosineOptions { Lr = 3e-3, MinLr = 3e-4, WarmupSteps = 2 });
        var options = new TrainerOptions { SequenceLength = 16, MicroBatch = int.Parse(micro), LogEvery = 1, CheckpointEvery = 3, KeepLast = 10 };
        if (flags.IndexOf("--accumulate") is >= 0 and var a) options.GradientAccumulation = int.Parse(flags[a + 1]);
        if (flags.Contains("--stages"))
        {
            // Two stages through the runner: every rank trains both; rank 0 alone exports and evaluates.
            var results = new StageRunner(model, optimizer, schedule, options, dir, "dp")
            {
                Group = group,
                Evaluate = point => { File.WriteAllText(Path.Combine(dir, $"evaluated.{group.Rank}.{point.Stage}"), ""); return new Dictionary<string, double> { ["x"] = 1 }; },
            }.Run([new StageSpec("general", sampler, long.Parse(steps)), new StageSpec("second", sampler, long.Parse(steps))], interrupt.Token);
            File.WriteAllText(Path.Combine(dir, $"result.{group.Rank}"), string.Join(",", results.Select(r => $"{r.Stage}:{r.Steps}")));
        }
        else
        {
            var result = new Trainer(model, optimizer, schedule, options, new CheckpointStore(Path.Combine(dir, "checkpoints"), options.KeepLast), "dp", group: group)
                .Run(new StageSpec("general", sampler, long.Parse(steps)), interrupt.Token);
            File.WriteAllText(Path.Combine(dir, $"result.{group.Rank}"), $"{result.Steps} {result.Interrupted}");
        }
        var weights = model.Module.parameters().SelectMany(p => p.detach().to_type(ScalarType.Float32).data<float>().ToArray()).ToArray();
        File.WriteAllBytes(Path.Combine(dir, $"weights.{group.Rank}.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(weights.AsSpan()).ToArray());
        return 0;
    }

    /// <summary>
    /// Each collective over buffers of several buckets (MpiProcessGroup cuts them at 4 M values), checked element by
    /// element on every rank; writes <c>DIR/collectives.RANK</c> with "ok" or the first wrong element.
    /// </summary>
    static int Collectives(string dir)
    {
        var group = ProcessGroups.Current;
        int w = group.WorldSize, slice = 5_000_003;   // not a multiple of any bucket
        string? wrong = null;
        void Expect(bool ok, string what) { if (!ok && wrong is null) wrong = what; }

        var values = new float[slice * w];
        for (int i = 0; i < values.Length; i++) values[i] = group.Rank + i % 7;
        var mine = new float[slice];
        group.ReduceScatterSum(values, mine);
        for (int i = 0; i < slice; i++) Expect(mine[i] == w * (w - 1) / 2 + w * ((group.Rank * slice + i) % 7), $"reduce-scatter [{i}] = {mine[i]}");

        for (int i = 0; i < slice; i++) mine[i] = group.Rank * 10 + i % 5;
        var all = new float[slice * w];
        group.AllGather(mine, all);
        for (int i = 0; i < all.Length; i++) Expect(all[i] == i / slice * 10 + i % slice % 5, $"all-gather [{i}] = {all[i]}");

        var sums = new float[9_000_001];
        for (int i = 0; i < sums.Length; i++) sums[i] = i % 3;
        group.AllReduceSum(sums);
        for (int i = 0; i < sums.Length; i++) Expect(sums[i] == w * (i % 3), $"all-reduce [{i}] = {sums[i]}");

        var bytes = new byte[10_000_019];
        if (group.Rank == 0) for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(i * 31);
        group.Broadcast(bytes);
        for (int i = 0; i < bytes.Length; i++) Expect(bytes[i] == (byte)(i * 31), $"broadcast [{i}] = {bytes[i]}");

        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, $"collectives.{group.Rank}"), wrong ?? "ok");
        return wrong is null ? 0 : 1;
    }

    static void KillAfter(string checkpoint) => new Thread(() =>
    {
        while (!Directory.Exists(checkpoint)) Thread.Sleep(1);
        Process.GetCurrentProcess().Kill();   // SIGKILL: no cleanup, wherever the other rank is
    }) { IsBackground = true }.Start();
}
