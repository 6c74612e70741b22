namespace Ziya2.Training;

/// <summary>What to do when a step's loss or gradient norm is not finite.</summary>
public enum NonFinitePolicy
{
    /// <summary>Save a checkpoint of the last good state and stop with a clear error (default).</summary>
    Stop,
    /// <summary>Skip the update (weights unchanged), count it, and go on.</summary>
    Skip,
}

/// <summary>How a stage is trained (the recipe binds it from TOML).</summary>
public sealed class TrainerOptions : Ziya2.Configuration.IValidatableOptions
{
    /// <summary>Tokens per sequence (Ziya2: 4,096).</summary>
    public int SequenceLength { get; set; } = 4096;
    /// <summary>Sequences per forward pass.</summary>
    public int MicroBatch { get; set; } = 1;
    /// <summary>Micro-batches accumulated per optimizer step; the global batch is micro_batch × accumulation × sequence_length tokens.</summary>
    public int GradientAccumulation { get; set; } = 1;
    /// <summary>Gradient clipping by global norm (Ziya2: 1.0); 0 disables it.</summary>
    public double ClipGradNorm { get; set; } = 1.0;
    /// <summary>Metrics every this many optimizer steps.</summary>
    public int LogEvery { get; set; } = 10;
    /// <summary>A checkpoint every this many optimizer steps (and always at the end of a stage and on interruption).</summary>
    public int CheckpointEvery { get; set; } = 500;
    /// <summary>Periodic checkpoints kept per stage (stage-final checkpoints are always kept).</summary>
    public int KeepLast { get; set; } = 3;
    /// <summary>Attend only within each packed document (positions restart per document).</summary>
    public bool CrossDocumentMask { get; set; }
    public NonFinitePolicy OnNonFinite { get; set; } = NonFinitePolicy.Stop;
    /// <summary>Peak FLOP/s of the device for MFU (e.g. 989e12 for an H100's dense BF16); 0: measure the matmul peak at start (<see cref="MatmulPeak"/>).</summary>
    public double PeakFlops { get; set; }

    /// <summary>
    /// ZeRO stage under data parallelism (<see cref="Distributed.ShardedOptimizer"/>): 1 shards the optimizer's state
    /// (FP32 masters and moments) over the ranks, 2 also the gradients (reduced after every micro-batch into FP32
    /// slices); each checkpoint then holds one optimizer shard per rank and resumes only with as many ranks. 0: every
    /// rank holds it all.
    /// </summary>
    public int ZeroStage { get; set; }

    /// <summary>
    /// The data-parallel collectives: <c>auto</c> (NCCL for a model on CUDA, MPI on the CPU), <c>mpi</c> (host memory;
    /// CUDA tensors are staged through it) or <c>nccl</c>.
    /// </summary>
    public string Collectives { get; set; } = "auto";

    /// <summary>Tokens per optimizer step of one rank (all ranks: this × the ranks).</summary>
    public long TokensPerStep => (long)SequenceLength * MicroBatch * GradientAccumulation;

    public IEnumerable<string> Validate()
    {
        if (SequenceLength < 1 || MicroBatch < 1 || GradientAccumulation < 1) yield return "sequence_length, micro_batch and gradient_accumulation must be >= 1";
        if (ClipGradNorm < 0) yield return "clip_grad_norm must be >= 0";
        if (LogEvery < 1 || CheckpointEvery < 1 || KeepLast < 1) yield return "log_every, checkpoint_every and keep_last must be >= 1";
        if (ZeroStage is not (0 or 1 or 2)) yield return $"zero_stage must be 0, 1 or 2 (ZeRO-3, sharded weights, is not implemented), not {ZeroStage}";
        if (Collectives is not ("auto" or "mpi" or "nccl")) yield return $"collectives must be auto, mpi or nccl, not '{Collectives}'";
    }
}
