using System.Diagnostics;
using Ziya2.Events;
using Ziya2.Models;
using Ziya2.Optimization;
using Ziya2.Training.Data;
using static TorchSharp.torch;
using Ziya2.Models.Checkpoints;
using Ziya2.Distributed;
using Ziya2.Training.Distributed;

namespace Ziya2.Training;

/// <summary>One stage of continual pre-training (paper §4: general → supervised + replay → math + replay).</summary>
/// <param name="Name">Stage name (checkpoint directories, metrics).</param>
/// <param name="Data">Its mixture.</param>
/// <param name="Steps">Optimizer steps (the token budget divided by tokens per step).</param>
/// <param name="ScheduleOffset">Steps of earlier stages when one schedule spans all stages; 0 when it restarts per stage.</param>
/// <param name="ScheduleTotal">The schedule's horizon: all stages' steps, or null for this stage's.</param>
/// <param name="EvaluateEvery">Steps between evaluations inside the stage (0: none; the stage's end is evaluated by <see cref="StageRunner"/>).</param>
public sealed record StageSpec(string Name, MixtureSampler Data, long Steps, long ScheduleOffset = 0, long? ScheduleTotal = null, long EvaluateEvery = 0);

/// <summary>How a stage ended; <see cref="Evaluation"/> holds what the runner's evaluation hook measured after it.</summary>
public sealed record StageResult(string Stage, long Steps, double FirstLoss, double LastLoss, bool Resumed, bool Interrupted, long SkippedSteps, string Checkpoint)
{
    public IReadOnlyDictionary<string, double> Evaluation { get; init; } = new Dictionary<string, double>();
}

/// <summary>A loss or gradient norm that is not a number; the last good state was checkpointed first.</summary>
public sealed class NonFiniteLossException(string message) : Exception(message);

/// <summary>
/// The training loop: micro-batches with gradient accumulation, clipping, the scheduler's rate per step, metrics every
/// <c>log_every</c> steps (reported under the stage's name), checkpoints every <c>checkpoint_every</c> steps and at the end, exact resume from the latest
/// checkpoint (model, optimizer moments, scheduler, sampler position), a checkpoint and a clean return on cancellation,
/// and a stop (or skip) on a non-finite loss. Every step runs inside a dispose scope.
/// What happens is published on <paramref name="events"/>: <see cref="RunEvents.StageStart"/>, <see cref="RunEvents.StepEnd"/>
/// after every step, <see cref="RunEvents.Metrics"/> every <c>log_every</c> steps (series: the stage's name),
/// <see cref="RunEvents.Checkpoint"/> and <see cref="RunEvents.StageEnd"/>.
/// The optional <c>evaluate</c> callback gets the stage and the steps done every <see cref="StageSpec.EvaluateEvery"/> steps
/// inside a stage (after that step's checkpoint, if any), so curves show how a stage goes, not only where it ends.
/// <para>
/// Data parallel when the process is one rank of several (<see cref="ProcessGroups.Current"/>: started by mpiexec or
/// srun): rank 0's initial weights are broadcast; every rank draws the same global batch (ranks × micro_batch
/// sequences per micro-step) and trains on its own contiguous part, its loss summed over tokens and divided by the
/// global batch's token count, so the all-reduced (summed) gradients are exactly those of the global batch and the
/// steps match one process with ranks × micro_batch sequences up to floating-point order; clipping sees the global
/// norm; every rank steps its optimizer identically; rank 0 writes checkpoints, publishes events and evaluates, and an
/// interruption on any rank stops all of them at the same step.
/// </para>
/// </summary>
public sealed class Trainer(ILanguageModel model, IOptimizer optimizer, ILearningRateScheduler scheduler, TrainerOptions options,
    CheckpointStore checkpoints, string configHash, IEventBus? events = null, Action<StageSpec, long>? evaluate = null, IProcessGroup? group = null)
{
    readonly IProcessGroup _group = group ?? ProcessGroups.Current;
    GradientAllReduce? _allReduce;

    /// <summary>
    /// The <c>tokenizer.model</c> the run trains with, copied (with its Hugging Face tokenizer files) beside every
    /// checkpoint's weights, so a checkpoint as printed is a checkpoint <c>ziya2 model generate --text</c> can use.
    /// </summary>
    public string? TokenizerModel { get; init; }
    IEventBus? Events => _group.Rank == 0 ? events : null;

    /// <summary>Tokens in one optimizer step over all ranks.</summary>
    long TokensPerStep => options.TokensPerStep * _group.WorldSize;

    public StageResult Run(StageSpec stage, CancellationToken cancellation = default)
    {
        try { return RunStage(stage, cancellation); }
        finally
        {
            _allReduce?.Dispose();   // the data-parallel gradient bucket lives for one stage
            _allReduce = null;
        }
    }

    StageResult RunStage(StageSpec stage, CancellationToken cancellation)
    {
        long start = 0, skipped = 0;
        bool resumed = false;
        scheduler.Configure(stage.ScheduleTotal ?? stage.Steps);
        if (checkpoints.Latest(stage.Name) is { } latest)
        {
            if (latest.State.ConfigHash != configHash)
                throw new InvalidDataException($"{latest.Path} was written by a different configuration; use another run directory or --force a fresh run");
            HuggingFaceCheckpoint.Load(model, Path.Combine(latest.Path, "model"));
            LoadOptimizer(optimizer, latest.Path);
            scheduler.LoadState(latest.State.Scheduler);
            stage.Data.LoadState(latest.State.Sampler);
            (start, skipped, resumed) = (latest.State.Step, latest.State.SkippedSteps, true);
            if (latest.State.Complete) return new StageResult(stage.Name, start, double.NaN, double.NaN, true, false, skipped, latest.Path);
        }
        else
        {
            if (_group.WorldSize > 1) BroadcastWeights();   // the same start everywhere, whatever each rank's initialisation did
            (optimizer as ShardedOptimizer)?.TakeMastersFromModel();
        }

        double first = double.NaN, last = double.NaN;
        var device = model.Device;   // batches go where the weights are
        var clock = Stopwatch.StartNew();
        var stageClock = Stopwatch.StartNew();
        long tokensSinceLog = 0;
        Events?.Publish(new RunEvent(RunEvents.StageStart, start, stage.Name, new Dictionary<string, double>
            { ["steps"] = stage.Steps, ["tokens_per_step"] = TokensPerStep, ["ranks"] = _group.WorldSize }));
        StageResult End(StageResult result)
        {
            Events?.Publish(new RunEvent(RunEvents.StageEnd, result.Steps, stage.Name, new Dictionary<string, double>
            {
                ["steps"] = result.Steps, ["first_loss"] = first, ["last_loss"] = last,
                ["interrupted"] = result.Interrupted ? 1 : 0, ["seconds"] = stageClock.Elapsed.TotalSeconds,
            }) { Detail = result.Checkpoint });
            return result;
        }
        for (long step = start; step < stage.Steps; step++)
        {
            if (StopRequested(cancellation))
            {
                var at = Save(stage, step, final: false, skipped);
                return End(new StageResult(stage.Name, step, first, last, resumed, true, skipped, at));
            }
            optimizer.LearningRate = scheduler.GetLearningRate(stage.ScheduleOffset + step);
            double loss, norm;
            using (NewDisposeScope())
            {
                optimizer.ZeroGrad();
                loss = 0;
                for (int micro = 0; micro < options.GradientAccumulation; micro++)
                {
                    // Every rank draws the whole global micro-batch (so the sampler's state is the same everywhere) and keeps its part.
                    var global = Enumerable.Range(0, options.MicroBatch * _group.WorldSize).Select(_ => stage.Data.Next().Sequence).ToArray();
                    var batch = global.Skip(_group.Rank * options.MicroBatch).Take(options.MicroBatch).ToArray();
                    var inputs = tensor(batch.SelectMany(b => b.Inputs).Select(x => (long)x).ToArray(), device: device).view(options.MicroBatch, options.SequenceLength);
                    var targets = tensor(batch.SelectMany(b => b.Targets).Select(x => (long)x).ToArray(), device: device).view(-1);
                    var documents = options.CrossDocumentMask ? tensor(batch.SelectMany(b => b.DocumentIds).Select(x => (long)x).ToArray(), device: device).view(options.MicroBatch, options.SequenceLength) : null;
                    var logits = model.Forward(inputs, documents);
                    var flat = logits.view(-1, logits.shape[^1]).to_type(ScalarType.Float32);
                    var l = _group.WorldSize == 1
                        ? nn.functional.cross_entropy(flat, targets, ignore_index: PackedSequence.IgnoreIndex)
                        // This rank's share of the global micro-batch's mean: summed over its tokens, divided by all ranks' tokens.
                        : nn.functional.cross_entropy(flat, targets, ignore_index: PackedSequence.IgnoreIndex, reduction: nn.Reduction.Sum)
                          / Math.Max(1, global.Sum(b => b.Targets.Count(t => t != PackedSequence.IgnoreIndex)));
                    (l / options.GradientAccumulation).backward();
                    loss += l.item<float>() / options.GradientAccumulation;
                    (optimizer as ShardedOptimizer)?.ReduceMicroBatch();   // ZeRO-2: into the FP32 slices, the whole gradient released
                }
                if (optimizer is ShardedOptimizer sharded) (norm, loss) = sharded.ReduceGradients(options.ClipGradNorm, loss);
                else
                {
                    if (_group.WorldSize > 1) loss = AllReduceGradients(loss);
                    norm = options.ClipGradNorm > 0
                        ? nn.utils.clip_grad_norm_(model.Module.parameters(), options.ClipGradNorm)
                        : GlobalNorm();
                }
                if (!double.IsFinite(loss) || !double.IsFinite(norm))
                {
                    if (options.OnNonFinite == NonFinitePolicy.Skip) { skipped++; optimizer.ZeroGrad(); continue; }
                    var at = Save(stage, step, final: false, skipped);   // the weights are still the last good ones: no update was applied
                    throw new NonFiniteLossException($"stage {stage.Name}, step {step}: loss {loss}, gradient norm {norm}; stopped with a checkpoint of the last good state in {at} (set on_non_finite = \"skip\" to skip such steps)");
                }
                optimizer.Step();
            }
            if (double.IsNaN(first)) first = loss;
            last = loss;
            tokensSinceLog += TokensPerStep;
            Events?.Publish(new RunEvent(RunEvents.StepEnd, step, stage.Name, new Dictionary<string, double>
                { ["loss"] = loss, ["lr"] = optimizer.LearningRate, ["grad_norm"] = norm, ["tokens"] = TokensPerStep }));
            // The first step of a run is logged too, so every curve starts where training started.
            if ((step + 1) % options.LogEvery == 0 || step + 1 == stage.Steps || step == start)
            {
                double seconds = clock.Elapsed.TotalSeconds, tokensPerSecond = seconds > 0 ? tokensSinceLog / seconds : 0;
                Events?.Publish(new RunEvent(RunEvents.Metrics, step, stage.Name, new Dictionary<string, double>
                {
                    ["loss"] = loss, ["lr"] = optimizer.LearningRate, ["grad_norm"] = norm,
                    ["tokens_per_second"] = tokensPerSecond, ["skipped_steps"] = skipped,
                    // Model FLOPs utilisation against the configured (or measured) peak; resident memory of the process.
                    // Tokens/s are all ranks'; the peak is one device's.
                    ["mfu"] = options.PeakFlops > 0 ? tokensPerSecond * model.TrainingFlopsPerToken(options.SequenceLength) / (options.PeakFlops * _group.WorldSize) : double.NaN,
                    ["rss_mb"] = Environment.WorkingSet / 1048576.0,
                }));
                clock.Restart(); tokensSinceLog = 0;
            }
            if ((step + 1) % options.CheckpointEvery == 0 && step + 1 < stage.Steps) Save(stage, step + 1, final: false, skipped);
            if (evaluate is not null && stage.EvaluateEvery > 0 && (step + 1) % stage.EvaluateEvery == 0 && step + 1 < stage.Steps)
            {
                if (_group.Rank == 0) evaluate(stage, step + 1);
                _group.Barrier();   // the others wait asleep, leaving the cores to rank 0's evaluation
            }
        }
        var final = Save(stage, stage.Steps, final: true, skipped);
        return End(new StageResult(stage.Name, stage.Steps, first, last, resumed, false, skipped, final));
    }

    /// <summary>Whether this rank or any other was asked to stop: all stop at the same step.</summary>
    bool StopRequested(CancellationToken cancellation)
    {
        if (_group.WorldSize == 1) return cancellation.IsCancellationRequested;
        Span<double> flag = [cancellation.IsCancellationRequested ? 1 : 0];
        _group.AllReduceMax(flag);
        if (flag[0] > 0) JobInterruption.Spread();   // the recipe on this rank then sees the job interrupted, as the others do
        return flag[0] > 0;
    }

    /// <summary>The job's collectives on the model's device (NCCL on CUDA, MPI otherwise; <c>collectives</c> in the options).</summary>
    ITensorCollectives Collectives => TensorCollectives.Shared(_group, model.Device, options.Collectives);

    /// <summary>Rank 0's weights into every rank's model.</summary>
    void BroadcastWeights()
    {
        using var _ = NewDisposeScope();
        using var __ = no_grad();
        foreach (var p in model.Module.parameters()) Collectives.Broadcast(p);
    }

    /// <summary>
    /// Sums the gradients of all ranks (bucket by bucket, <see cref="GradientAllReduce"/>) and returns the global loss
    /// (the ranks' shares summed). The summed gradients are the global batch's: each rank's loss was already divided by
    /// the global token count.
    /// </summary>
    double AllReduceGradients(double loss)
    {
        _allReduce ??= new GradientAllReduce(Collectives, [.. model.Module.parameters()], model.Device);
        _allReduce.Run();
        Span<double> total = [loss];
        _group.AllReduceSum(total);
        return total[0];
    }

    double GlobalNorm()
    {
        using var _ = NewDisposeScope();
        double sum = 0;
        foreach (var p in model.Module.parameters())
            if (p.grad is { } g) sum += g.to_type(ScalarType.Float64).pow(2).sum().item<double>();
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// Rank 0 writes the checkpoint (every rank holds the same weights); with a sharded optimizer every rank first stages
    /// its shard, which rank 0 moves into the checkpoint before it is renamed into place. The others wait for it.
    /// </summary>
    string Save(StageSpec stage, long step, bool final, long skipped)
    {
        var path = checkpoints.PathOf(stage.Name, step, final);
        var staged = Path.Combine(checkpoints.Root, $".shards-{Path.GetFileName(path)}");
        if (optimizer is ShardedOptimizer sharded)
        {
            sharded.SaveShard(staged);
            _group.Barrier();
        }
        if (_group.Rank == 0)
            checkpoints.Save(stage.Name, step, final, dir => { HuggingFaceCheckpoint.Save(model, dir); TokenizerFiles.CopyInto(TokenizerModel, dir); },
                file => { if (optimizer is ShardedOptimizer) Directory.Move(staged, Path.Combine(Path.GetDirectoryName(file)!, "optimizer")); else optimizer.SaveState(file); },
                new TrainingState(stage.Name, step, stage.Steps, scheduler.SaveState(), stage.Data.SaveState(), configHash, final, skipped));
        _group.Barrier();
        if (!File.Exists(Path.Combine(path, "state.json")))
            throw new InvalidOperationException($"rank {_group.Rank}: rank 0's checkpoint {path} is not visible here; a data-parallel run needs a run directory on storage every rank sees");
        Events?.Publish(new RunEvent(RunEvents.Checkpoint, step, stage.Name) { Detail = path });
        return path;
    }

    /// <summary>A checkpoint's optimizer state into <paramref name="optimizer"/>: <c>optimizer.bin</c>, or this rank's shard of <c>optimizer/</c> for a sharded one.</summary>
    public static void LoadOptimizer(IOptimizer optimizer, string checkpoint)
    {
        if (optimizer is ShardedOptimizer sharded) sharded.LoadShard(Path.Combine(checkpoint, "optimizer"));
        else if (Directory.Exists(Path.Combine(checkpoint, "optimizer")) && !File.Exists(Path.Combine(checkpoint, "optimizer.bin")))
            throw new InvalidDataException($"{checkpoint}: the optimizer state is sharded over ranks (ZeRO); resume it with the same ranks and zero_stage = 1");
        else optimizer.LoadState(Path.Combine(checkpoint, "optimizer.bin"));
    }
}
