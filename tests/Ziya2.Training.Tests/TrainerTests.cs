using Ziya2.Models;
using System.Text.Json;
using Ziya2.Events;
using Ziya2.Plugins.Llama;
using Ziya2.Plugins.Optimizers;
using Ziya2.Plugins.Schedulers;
using Ziya2.Training.Data;
using static TorchSharp.torch;

namespace Ziya2.Training.Tests;

/// <summary>The loop on a real tiny LLaMA: loss falls, resume is bit-identical, interruptions and NaNs are handled.</summary>
public sealed class TrainerTests : IDisposable
{
    readonly TempDir _tmp = new();
    readonly TokenFile _general, _sft;

    public TrainerTests()
    {
        var g = _tmp.Combine("g.jsonl");
        File.WriteAllLines(g, Enumerable.Range(0, 40).Select(i => JsonSerializer.Serialize(new { id = $"g{i}", text = string.Concat(Enumerable.Repeat("thequickbrownfox", 1 + i % 3)) })));
        var s = _tmp.Combine("s.jsonl");
        File.WriteAllLines(s, Enumerable.Range(0, 20).Select(i => JsonSerializer.Serialize(new { id = $"s{i}", text = "whatisabanswerab", attributes = new { prompt_chars = 10 } })));
        _general = TokenFileBuilder.Build([g], new LetterTokenizer(), _tmp.Combine("tok-g"));
        _sft = TokenFileBuilder.Build([s], new LetterTokenizer(), _tmp.Combine("tok-s"));
    }

    static readonly TrainerOptions Options = new() { SequenceLength = 16, MicroBatch = 2, GradientAccumulation = 2, LogEvery = 1, CheckpointEvery = 3, KeepLast = 2 };

    sealed class Run : IDisposable
    {
        public readonly LlamaModel Model;
        public readonly Ziya2.Optimization.IOptimizer Optimizer;
        public readonly CosineWithWarmup Schedule = new(new CosineOptions { Lr = 3e-3, MinLr = 3e-4, WarmupSteps = 2 });
        public readonly List<double> Losses = [];
        public readonly Trainer Trainer;

        public Run(string runDir, TrainerOptions? options = null, string config = "cfg", Precision precision = Precision.Fp32, bool activationCheckpointing = false)
        {
            Model = new(new LlamaOptions
            {
                VocabSize = 29, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2, MaxPositionEmbeddings = 32, Seed = 3,
                Precision = precision, ActivationCheckpointing = activationCheckpointing,
            });
            Optimizer = new AdamWFactory(new AdamWOptions { Lr = 3e-3 }).Create(((ILanguageModel)Model).GetParameterGroups());
            Trainer = new Trainer(Model, Optimizer, Schedule, options ?? Options, new CheckpointStore(Path.Combine(runDir, "checkpoints"), (options ?? Options).KeepLast), config,
                OnMetrics((_, _, m) => Losses.Add(m["loss"])));
        }

        public float[] Weights() => Model.Module.parameters().SelectMany(p => p.detach().to_type(ScalarType.Float32).data<float>().ToArray()).ToArray();
        public void Dispose() { Optimizer.Dispose(); Model.Dispose(); }
    }

    StageSpec Stage(long steps, ulong seed = 1) => new("general",
        new MixtureSampler(Replay.ByRatio([new("sft", _sft, PackingMode.Samples, 1)], [new("general", _general, PackingMode.Documents, 1)], 1.0), 16, LetterTokenizer.Eos, LetterTokenizer.Pad, seed), steps);

    [Fact]
    public void Loss_falls_and_checkpoints_are_kept_as_configured()
    {
        using var run = new Run(_tmp.Combine("a"));
        var result = run.Trainer.Run(Stage(30));
        Assert.True(result.LastLoss < result.FirstLoss * 0.7, $"loss {result.FirstLoss:F3} → {result.LastLoss:F3}");
        var dirs = Directory.GetDirectories(_tmp.Combine("a", "checkpoints")).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["general-00000024", "general-00000027", "general-final"], dirs);   // keep_last = 2 periodic + final
        // A finished stage resumes to "complete" without training again.
        using var again = new Run(_tmp.Combine("a"));
        var second = again.Trainer.Run(Stage(30));
        Assert.True(second.Resumed);
        Assert.Empty(again.Losses);
        Assert.Equal(run.Weights(), again.Weights());
    }

    [Fact]
    public void Interrupted_and_resumed_training_gives_bit_identical_weights()
    {
        using var straight = new Run(_tmp.Combine("straight"));
        straight.Trainer.Run(Stage(10));

        // Interrupt after step 4 (a cancelled token: the SIGTERM path), with the debris of a kill during a later save.
        using var cts = new CancellationTokenSource();
        using (var first = new Run(_tmp.Combine("resumed")))
        {
            var trainer = new Trainer(first.Model, first.Optimizer, first.Schedule, Options, new CheckpointStore(_tmp.Combine("resumed", "checkpoints"), 2), "cfg",
                OnMetrics((_, step, _) => { if (step == 3) cts.Cancel(); }));
            var interrupted = trainer.Run(Stage(10), cts.Token);
            Assert.True(interrupted.Interrupted);
            Assert.Equal(4, interrupted.Steps);
        }
        var partial = _tmp.Combine("resumed", "checkpoints", ".tmp-general-00000006-dead");
        Directory.CreateDirectory(Path.Combine(partial, "model"));
        File.WriteAllText(Path.Combine(partial, "optimizer.bin"), "half written");

        using var resumed = new Run(_tmp.Combine("resumed"));   // fresh process state: new model, optimizer, schedule, sampler
        var result = resumed.Trainer.Run(Stage(10));
        Assert.True(result.Resumed);
        Assert.Equal(6, resumed.Losses.Count);                      // steps 4..9
        Assert.Equal(straight.Weights(), resumed.Weights());        // bit for bit
        Assert.Equal(straight.Losses.Skip(4), resumed.Losses);
        Assert.False(Directory.Exists(partial));

        // A checkpoint from another configuration is not silently continued.
        using var other = new Run(_tmp.Combine("resumed"), config: "other");
        Assert.Throws<InvalidDataException>(() => other.Trainer.Run(Stage(10)));
    }

    [Fact]
    public void A_non_finite_loss_stops_with_a_checkpoint_of_the_last_good_weights_or_is_skipped()
    {
        using var run = new Run(_tmp.Combine("nan"));
        run.Trainer.Run(Stage(2));
        var good = run.Weights();
        using (no_grad()) run.Model.Module.parameters().Last().fill_(float.NaN);   // poison a weight: every loss is now NaN
        var stop = Assert.Throws<NonFiniteLossException>(() => new Trainer(run.Model, run.Optimizer, run.Schedule, Options,
            new CheckpointStore(_tmp.Combine("nan2", "checkpoints"), 2), "cfg").Run(Stage(4)));
        Assert.Contains("last good state", stop.Message);
        Assert.True(Directory.GetDirectories(_tmp.Combine("nan2", "checkpoints")).Length == 1);

        var skipOptions = new TrainerOptions { SequenceLength = 16, MicroBatch = 2, GradientAccumulation = 2, LogEvery = 1, CheckpointEvery = 100, OnNonFinite = NonFinitePolicy.Skip };
        var skipped = new Trainer(run.Model, run.Optimizer, run.Schedule, skipOptions, new CheckpointStore(_tmp.Combine("nan3", "checkpoints"), 2), "cfg").Run(Stage(3));
        Assert.Equal(3, skipped.SkippedSteps);
        Assert.NotEqual(good, run.Weights());   // still poisoned: nothing was applied on top of it
    }

    StageSpec[] TwoStages() =>
    [
        new("general", new MixtureSampler([new("general", _general, PackingMode.Documents, 1)], 16, LetterTokenizer.Eos, LetterTokenizer.Pad, 1), 5),
        new("supervised", new MixtureSampler(Replay.ByRatio([new("sft", _sft, PackingMode.Samples, 1)], [new("general", _general, PackingMode.Documents, 1)], 1.0),
            16, LetterTokenizer.Eos, LetterTokenizer.Pad, 2), 5),
    ];

    [Fact]
    public void Stages_run_in_order_share_one_schedule_export_and_resume_bit_identically_across_the_boundary()
    {
        var lrs = new List<double>();
        using var straight = new Run(_tmp.Combine("s"));
        var runner = new StageRunner(straight.Model, straight.Optimizer, straight.Schedule, Options, _tmp.Combine("s"), "cfg", OnMetrics((_, _, m) => lrs.Add(m["lr"])))
            { Schedule = ScheduleSpan.AllStages };
        var results = runner.Run(TwoStages());
        Assert.Equal(["general", "supervised"], results.Select(r => r.Stage));
        // One warmup (2 steps) and one cosine over 10 steps: the second stage continues the decay instead of restarting.
        Assert.Equal(10, lrs.Count);
        Assert.True(lrs[5] < lrs[4] && lrs[9] < lrs[5], string.Join(", ", lrs));
        Assert.Equal(3e-4, lrs[9], 9);
        Assert.True(File.Exists(_tmp.Combine("s", "exports", "general", "config.json")));
        Assert.True(File.Exists(_tmp.Combine("s", "exports", "supervised", "config.json")));

        // Interrupted in stage 2, then resumed by a fresh process: stage 1 is complete and hands over its state.
        using var cts = new CancellationTokenSource();
        using (var first = new Run(_tmp.Combine("r")))
        {
            int calls = 0;
            var partial = new StageRunner(first.Model, first.Optimizer, first.Schedule, Options, _tmp.Combine("r"), "cfg", OnMetrics((_, _, _) => { if (++calls == 7) cts.Cancel(); }))
                { Schedule = ScheduleSpan.AllStages }.Run(TwoStages(), cts.Token);
            Assert.True(partial[^1].Interrupted);
        }
        using var resumed = new Run(_tmp.Combine("r"));
        new StageRunner(resumed.Model, resumed.Optimizer, resumed.Schedule, Options, _tmp.Combine("r"), "cfg") { Schedule = ScheduleSpan.AllStages }.Run(TwoStages());
        Assert.Equal(straight.Weights(), resumed.Weights());
    }

    [Fact]
    public void Activation_checkpointing_trains_bit_identically_and_bf16_mixed_trains_with_fp32_master_weights()
    {
        // Recomputing each block in backward must not change a single bit in FP32 on CPU.
        using var plain = new Run(_tmp.Combine("plain"));
        plain.Trainer.Run(Stage(6));
        using var recomputed = new Run(_tmp.Combine("ckpt"), activationCheckpointing: true);
        recomputed.Trainer.Run(Stage(6));
        Assert.Equal(plain.Losses, recomputed.Losses);
        Assert.Equal(plain.Weights(), recomputed.Weights());

        // BF16 mixed precision through the same loop: matmuls in BF16, weights (and so optimizer state) stay FP32.
        using var mixed = new Run(_tmp.Combine("bf16"), precision: Precision.Bf16Mixed, activationCheckpointing: true);
        var result = mixed.Trainer.Run(Stage(20));
        Assert.True(result.LastLoss < result.FirstLoss * 0.8, $"bf16_mixed loss {result.FirstLoss:F3} → {result.LastLoss:F3}");
        Assert.All(mixed.Model.Module.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        // Close to FP32 but not equal: the matmuls really ran in BF16.
        Assert.NotEqual(plain.Losses[0], mixed.Losses[0]);
        Assert.InRange(mixed.Losses[0], plain.Losses[0] - 0.05, plain.Losses[0] + 0.05);
    }

    [Fact]
    public void Evaluation_runs_after_each_completed_stage_also_when_resumed_complete()
    {
        var calls = new List<(string Stage, double Loss)>();
        IReadOnlyList<StageResult> RunAll(Run run) => new StageRunner(run.Model, run.Optimizer, run.Schedule, Options, _tmp.Combine("ev"), "cfg")
        {
            ExportFormat = null,
            Evaluate = r =>
            {
                var loss = Ziya2.Training.Evaluation.HeldOutLoss.Measure(run.Model, _general, 16).Loss;
                calls.Add((r.Stage, loss));
                return new Dictionary<string, double> { ["heldout"] = loss };
            },
        }.Run(TwoStages());
        using (var first = new Run(_tmp.Combine("ev")))
        {
            var results = RunAll(first);
            Assert.Equal(["general", "supervised"], calls.Select(c => c.Stage));
            Assert.Equal(calls.Select(c => c.Loss), results.Select(r => r.Evaluation["heldout"]));
        }
        using var again = new Run(_tmp.Combine("ev"));
        var resumed = RunAll(again);
        Assert.All(resumed, r => Assert.True(r.Resumed));
        // Each stage's evaluation sees that stage's final weights again: the same numbers as the first run.
        Assert.Equal(calls.Take(2).Select(c => c.Loss), resumed.Select(r => r.Evaluation["heldout"]));
    }

    [Fact]
    public void Evaluation_before_training_and_every_n_tokens_inside_stages_is_published_and_leaves_training_unchanged()
    {
        var points = new List<EvaluationPoint>();
        var published = new List<RunEvent>();
        StageRunner Runner(Run run, string dir, bool evaluate)
        {
            var bus = new EventBus();
            bus.Subscribe(e => { if (e.Name == RunEvents.Metrics && e.Stage == StageRunner.EvaluationSeries) published.Add(e); });
            return new StageRunner(run.Model, run.Optimizer, run.Schedule, Options, _tmp.Combine(dir), "cfg", bus)
            {
                ExportFormat = null,
                EvaluateEveryTokens = evaluate ? 2 * Options.TokensPerStep : 0,   // every 2 steps of 64 tokens
                EvaluateBeforeTraining = evaluate,
                Evaluate = p => { points.Add(p); return new Dictionary<string, double> { ["heldout"] = Ziya2.Training.Evaluation.HeldOutLoss.Measure(run.Model, _general, 16).Loss }; },
            };
        }
        using var evaluated = new Run(_tmp.Combine("evn"));
        Runner(evaluated, "evn", evaluate: true).Run(TwoStages());
        Assert.Equal([("general", 0L), ("general", 2), ("general", 4), ("general", 5), ("supervised", 2), ("supervised", 4), ("supervised", 5)],
            points.Select(p => (p.Stage, p.Step)));
        Assert.True(points[0].BeforeTraining);
        // Published for curves: step = tokens trained so far (64 per step), one point per evaluation.
        Assert.Equal([0L, 128, 256, 320, 448, 576, 640], published.Select(e => e.Step));
        Assert.All(published, e => Assert.True(double.IsFinite(e.Get("heldout"))));
        Assert.True(published[^1].Get("heldout") < published[0].Get("heldout"));

        // Evaluating reads the model and changes nothing: the same weights as a run that never evaluates.
        using var plain = new Run(_tmp.Combine("evp"));
        Runner(plain, "evp", evaluate: false).Run(TwoStages());
        Assert.Equal(plain.Weights(), evaluated.Weights());

        // A resumed, complete run does not measure "before training" again (its metrics have it).
        points.Clear();
        using var again = new Run(_tmp.Combine("evn"));
        Runner(again, "evn", evaluate: true).Run(TwoStages());
        Assert.Equal([("general", 5L), ("supervised", 5)], points.Select(p => (p.Stage, p.Step)));
    }

    [Fact]
    public void Metrics_reach_tensorboard_event_files_with_mfu_against_the_measured_peak()
    {
        double peak = MatmulPeak.Measure(256);
        Assert.True(peak > 1e8, $"peak {peak:E2} FLOP/s");
        var sink = new TensorBoardSink(_tmp.Combine("tb"));
        var seen = new List<IReadOnlyDictionary<string, double>>();
        using var run = new Run(_tmp.Combine("m"), new TrainerOptions { SequenceLength = 16, MicroBatch = 2, LogEvery = 1, CheckpointEvery = 100, PeakFlops = peak });
        var bus = OnMetrics((_, _, m) => seen.Add(m));
        bus.Subscribe(sink);
        new Trainer(run.Model, run.Optimizer, run.Schedule, new TrainerOptions { SequenceLength = 16, MicroBatch = 2, LogEvery = 1, CheckpointEvery = 100, PeakFlops = peak },
            new CheckpointStore(_tmp.Combine("m", "checkpoints"), 2), "cfg", bus).Run(Stage(3));
        Assert.All(seen, m => Assert.InRange(m["mfu"], 1e-6, 1.0));
        Assert.All(seen, m => Assert.True(m["rss_mb"] > 10));
        var events = Directory.GetFiles(_tmp.Combine("tb"), "events.out.tfevents.*");
        Assert.Single(events);
        Assert.True(new FileInfo(events[0]).Length > 3 * 7 * 20, "one record per metric per step");
    }

    /// <summary>An event bus that hands the trainer's metrics records (series, step, values) to <paramref name="metrics"/>.</summary>
    static EventBus OnMetrics(Action<string, long, IReadOnlyDictionary<string, double>> metrics)
    {
        var bus = new EventBus();
        bus.Subscribe(e => { if (e.Name == RunEvents.Metrics) metrics(e.Stage!, e.Step, e.Metrics); });
        return bus;
    }

    [Fact]
    public void The_trainer_publishes_stage_start_every_step_checkpoints_and_stage_end()
    {
        var seen = new List<RunEvent>();
        var bus = new EventBus();
        bus.Subscribe(seen.Add);
        using var run = new Run(_tmp.Combine("events"));
        var options = new TrainerOptions { SequenceLength = 16, MicroBatch = 2, LogEvery = 2, CheckpointEvery = 3, KeepLast = 2, PeakFlops = 1e9 };
        new Trainer(run.Model, run.Optimizer, run.Schedule, options, new CheckpointStore(_tmp.Combine("events", "checkpoints"), 2), "cfg", bus).Run(Stage(5));

        Assert.Equal(RunEvents.StageStart, seen[0].Name);
        Assert.Equal((0L, 5.0, 32.0), (seen[0].Step, seen[0].Get("steps"), seen[0].Get("tokens_per_step")));
        Assert.Equal([0L, 1, 2, 3, 4], seen.Where(e => e.Name == RunEvents.StepEnd).Select(e => e.Step));
        Assert.All(seen.Where(e => e.Name == RunEvents.StepEnd), e => Assert.True(double.IsFinite(e.Get("loss")) && e.Get("tokens") == 32));
        Assert.Equal([0L, 1, 3, 4], seen.Where(e => e.Name == RunEvents.Metrics).Select(e => e.Step));   // the first, every 2nd, the last
        var checkpoints = seen.Where(e => e.Name == RunEvents.Checkpoint).ToList();
        Assert.Equal([3L, 5], checkpoints.Select(e => e.Step));
        Assert.All(checkpoints, c => Assert.True(Directory.Exists(c.Detail), c.Detail));
        var end = seen[^1];
        Assert.Equal((RunEvents.StageEnd, "general", 5.0, 0.0), (end.Name, end.Stage, end.Get("steps"), end.Get("interrupted")));
        Assert.True(end.Get("last_loss") < end.Get("first_loss"));
    }

    public void Dispose() { _general.Dispose(); _sft.Dispose(); _tmp.Dispose(); }
}
