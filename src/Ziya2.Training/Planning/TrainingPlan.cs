using System.Globalization;
using System.Text;

namespace Ziya2.Training.Planning;

/// <summary>A stage as planned: its token budget and how its data is packed.</summary>
public sealed record PlannedStage(string Name, double Tokens, string Packing, string Mixture);

/// <summary>The hardware and parallelism a plan assumes ([plan] in a recipe's TOML).</summary>
public sealed class PlanOptions : Ziya2.Configuration.IValidatableOptions
{
    /// <summary>Data-parallel GPUs (Ziya2 §5.3: 80 × A100-80G).</summary>
    public int Gpus { get; set; } = 80;
    /// <summary>Memory per GPU in GiB.</summary>
    public double GpuMemoryGib { get; set; } = 80;
    /// <summary>Dense BF16 peak per GPU (A100: 312e12).</summary>
    public double PeakFlops { get; set; } = 312e12;
    /// <summary>Model FLOP/s per GPU to plan with; 0: use <see cref="Mfu"/> × <see cref="PeakFlops"/>. Ziya2 reports 163e12.</summary>
    public double AchievedFlops { get; set; } = 163e12;
    /// <summary>Model FLOPs utilisation assumed when <see cref="AchievedFlops"/> is 0.</summary>
    public double Mfu { get; set; } = 0.4;
    /// <summary>ZeRO stage (0–3): which of optimizer state, gradients and weights are sharded across the GPUs.</summary>
    public int ZeroStage { get; set; } = 1;
    /// <summary>Pipeline-parallel degree (Ziya2: PP = 2): weights and their state are split across this many GPUs per replica.</summary>
    public int PipelineParallel { get; set; } = 1;

    public IEnumerable<string> Validate()
    {
        if (Gpus < 1 || PipelineParallel < 1 || Gpus % PipelineParallel != 0) yield return "gpus must be a positive multiple of pipeline_parallel";
        if (ZeroStage is < 0 or > 3) yield return "zero_stage must be 0, 1, 2 or 3";
        if (!(PeakFlops > 0) || AchievedFlops < 0 || !(Mfu is > 0 and <= 1)) yield return "peak_flops must be > 0, achieved_flops >= 0, mfu in (0, 1]";
    }
}

/// <summary>Per-GPU memory of a plan, in bytes, by what holds it.</summary>
public sealed record MemoryEstimate(double Weights, double Gradients, double OptimizerState, double Activations)
{
    public double Total => Weights + Gradients + OptimizerState + Activations;
}

/// <summary>
/// What a run will do before it does it (<c>ziya2 run --dry-run</c>): steps per stage from the token budgets, memory per
/// GPU and expected wall time. Memory follows ZeRO's accounting (Rajbhandari et al. 2020) for this engine's
/// data-parallel training: weights and gradients in the model's dtype (<see cref="WeightBytes"/>: 2 for BF16 weights
/// trained against FP32 masters, 4 for FP32); optimizer state without ZeRO two moments in the weights' dtype, with
/// ZeRO-1/2 16 B per parameter sharded across the data-parallel ranks (FP32 master 4, two FP32 moments 8, the FP32
/// gradient slice 4). ZeRO-2 releases the model's gradients after every micro-batch, so they exist only during a
/// backward, which frees activations as it makes gradients: counted as the larger of the two (plus one layer's
/// activations) instead of their sum. ZeRO-3 (weights sharded) and pipeline parallelism are counted for the Megatron +
/// DeepSpeed setup the paper used; this engine runs neither. Activations follow Korthikanti et al. (2022): per layer
/// s·b·h·(34 + 5·a·s/h) bytes without recomputation, 2·s·b·h (the layer input) with full activation checkpointing plus
/// one layer being recomputed; with pipeline parallelism the first stage holds up to PP micro-batches in flight (1F1B).
/// The FP32 islands (RoPE, RMSNorm, softmax) add to activations beyond this; treat the figure as an estimate.
/// </summary>
public sealed class TrainingPlan
{
    public required ModelDimensions Model { get; init; }
    public required IReadOnlyList<PlannedStage> Stages { get; init; }
    public required int SequenceLength { get; init; }
    public required int MicroBatch { get; init; }
    /// <summary>Tokens per optimizer step across all GPUs.</summary>
    public required long GlobalBatchTokens { get; init; }
    public required bool ActivationCheckpointing { get; init; }
    public required PlanOptions Hardware { get; init; }
    /// <summary>Bytes per weight (and per gradient) of the model: 2 (BF16 weights) or 4 (FP32).</summary>
    public int WeightBytes { get; init; } = 2;

    /// <summary>Data-parallel replicas: the GPUs over the pipeline stages.</summary>
    public int DataParallel => Hardware.Gpus / Hardware.PipelineParallel;

    /// <summary>Micro-batches each data-parallel replica accumulates per step to reach at least the global batch asked for.</summary>
    public long GradientAccumulation => Math.Max(1, (long)Math.Ceiling((double)GlobalBatchTokens / ((long)SequenceLength * MicroBatch * DataParallel)));

    /// <summary>Tokens a step really takes: replicas × micro-batch × sequence × accumulation (≥ the global batch asked for).</summary>
    public long StepTokens => (long)DataParallel * MicroBatch * SequenceLength * GradientAccumulation;

    /// <summary>Optimizer steps of a stage: its tokens over the tokens a step takes, rounded up.</summary>
    public long Steps(PlannedStage stage) => (long)Math.Ceiling(stage.Tokens / StepTokens);

    /// <summary>Memory per GPU at the configured ZeRO stage.</summary>
    public MemoryEstimate MemoryPerGpu() => MemoryPerGpu(Hardware.ZeroStage);

    /// <summary>Memory per GPU at ZeRO stage <paramref name="zeroStage"/> (0–3).</summary>
    public MemoryEstimate MemoryPerGpu(int zeroStage)
    {
        double n = (double)Model.Parameters / Hardware.PipelineParallel, dp = DataParallel;
        double weights = WeightBytes * n, grads = WeightBytes * n, state = zeroStage >= 1 ? 16 * n / dp : 2 * WeightBytes * n;
        if (zeroStage >= 3) (weights, grads) = (weights / dp, grads / dp);   // DeepSpeed's ZeRO-3: everything sharded
        double s = SequenceLength, b = MicroBatch, h = Model.HiddenSize, a = Model.Heads, layers = (double)Model.Layers / Hardware.PipelineParallel;
        double fullLayer = s * b * h * (34 + 5 * a * s / h);
        double activations = ActivationCheckpointing ? layers * 2 * s * b * h + fullLayer : layers * fullLayer;
        if (Hardware.PipelineParallel > 1) activations *= Math.Min(Hardware.PipelineParallel, GradientAccumulation);   // 1F1B: micro-batches in flight on the first stage
        activations += s * b * Model.VocabSize * (2 + 4);   // BF16 logits and their FP32 copy for the loss
        if (zeroStage == 2)
        {
            // Gradients live only during a backward, which frees activations as it makes them: the larger of the two.
            double peak = Math.Max(grads + fullLayer, activations);
            return new MemoryEstimate(weights, peak - activations, state, activations);
        }
        return new MemoryEstimate(weights, grads, state, activations);
    }

    /// <summary>Model FLOP/s per GPU the plan assumes.</summary>
    public double FlopsPerGpu => Hardware.AchievedFlops > 0 ? Hardware.AchievedFlops : Hardware.Mfu * Hardware.PeakFlops;

    /// <summary>Tokens per second across all GPUs.</summary>
    public double TokensPerSecond => FlopsPerGpu * Hardware.Gpus / Model.TrainingFlopsPerToken(SequenceLength);

    public TimeSpan Duration(PlannedStage stage) => TimeSpan.FromSeconds(Steps(stage) * (double)StepTokens / TokensPerSecond);

    /// <summary>The plan as a readable table.</summary>
    public string Render()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"Model: {(Model.Parameters >= 1e9 ? $"{Model.Parameters / 1e9:F2}B" : $"{Model.Parameters / 1e6:F2}M")} parameters (vocab {Model.VocabSize:N0}, d {Model.HiddenSize}, {Model.Layers} layers, {Model.Heads} heads); " +
                         $"{Model.TrainingFlopsPerToken(SequenceLength) / 1e9:F1} GFLOP/token at T={SequenceLength}");
        sb.AppendLine(c, $"Batch: {StepTokens:N0} tokens/step = {DataParallel} data-parallel × {MicroBatch} × {SequenceLength} × {GradientAccumulation} accumulation" +
                         $"{(StepTokens != GlobalBatchTokens ? $" (global batch asked: {GlobalBatchTokens:N0})" : "")}{(Hardware.PipelineParallel > 1 ? $"; pipeline parallel {Hardware.PipelineParallel}" : "")}");
        sb.AppendLine(string.Format(c, "{0,-10} {1,12} {2,10} {3,-10} {4,12}  mixture", "stage", "tokens", "steps", "packing", "time"));
        double tokens = 0; long steps = 0; var total = TimeSpan.Zero;
        foreach (var s in Stages)
        {
            var d = Duration(s);
            sb.AppendLine(c, $"{s.Name,-10} {Format(s.Tokens),12} {Steps(s),10:N0} {s.Packing,-10} {FormatTime(d),12}  {s.Mixture}");
            tokens += s.Tokens; steps += Steps(s); total += d;
        }
        sb.AppendLine(c, $"{"total",-10} {Format(tokens),12} {steps,10:N0} {"",-10} {FormatTime(total),12}");
        var m = MemoryPerGpu();
        const double GiB = 1024.0 * 1024 * 1024;
        string Fits(MemoryEstimate e) => e.Total / GiB > Hardware.GpuMemoryGib ? "  ← DOES NOT FIT" : "";
        sb.AppendLine(c, $"Memory per GPU (ZeRO-{Hardware.ZeroStage}, activation checkpointing {(ActivationCheckpointing ? "on" : "off")}, {(WeightBytes == 2 ? "BF16" : "FP32")} weights): " +
                         $"weights {m.Weights / GiB:F1} + gradients {m.Gradients / GiB:F1} + optimizer {m.OptimizerState / GiB:F1} + activations {m.Activations / GiB:F1} = " +
                         $"{m.Total / GiB:F1} GiB of {Hardware.GpuMemoryGib:F0} GiB{Fits(m)}");
        if (DataParallel > 1)
        {
            var stages = new[] { 0, 1, 2 }.Select(z => (Stage: z, Total: MemoryPerGpu(z).Total / GiB))
                .Select(x => string.Create(c, $"ZeRO-{x.Stage} {x.Total:F1} GiB{(x.Total > Hardware.GpuMemoryGib ? " (does not fit)" : "")}"));
            sb.AppendLine(c, $"By ZeRO stage over {DataParallel} data-parallel ranks: {string.Join(", ", stages)}");
        }
        sb.AppendLine(c, $"Throughput: {FlopsPerGpu / 1e12:F0} TFLOP/s per GPU × {Hardware.Gpus} GPUs = {TokensPerSecond:N0} tokens/s");
        return sb.ToString();
    }

    static string Format(double tokens) => tokens >= 1e9 ? $"{tokens / 1e9:F1}B" : tokens >= 1e6 ? $"{tokens / 1e6:F1}M" : $"{tokens:N0}";
    static string FormatTime(TimeSpan t) => t.TotalDays >= 1 ? $"{t.TotalDays:F1} days" : t.TotalHours >= 1 ? $"{t.TotalHours:F1} h" : $"{t.TotalMinutes:F1} min";
}
