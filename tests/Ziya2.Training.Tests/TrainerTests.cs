using System.Text.Json;
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
        public readonly LlamaModel Model = new(new LlamaOptions
        {
            VocabSize = 29, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2, MaxPositionEmbeddings = 32, Seed = 3,
        });
        public readonly Ziya2.Optimization.IOptimizer Optimizer;
        public readonly CosineWithWarmup Schedule = new(new CosineOptions { Lr = 3e-3, MinLr = 3e-4, WarmupSteps = 2 });
        public readonly List<double> Losses = [];
        public readonly Trainer Trainer;

        public Run(string runDir, TrainerOptions? options = null, string config = "cfg")
        {
            Optimizer = new AdamWFactory(new AdamWOptions { Lr = 3e-3 }).Create(Model.GetParameterGroups());
            Trainer = new Trainer(Model, Optimizer, Schedule, options ?? Options, new CheckpointStore(Path.Combine(runDir, "checkpoints"), (options ?? Options).KeepLast), config,
                (_, _, m) => Losses.Add(m["loss"]));
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
                (_, step, _) => { if (step == 3) cts.Cancel(); });
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

    public void Dispose() { _general.Dispose(); _sft.Dispose(); _tmp.Dispose(); }
}
