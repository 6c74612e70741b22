using System.Globalization;
using System.Text;

namespace Ziya2.Training.Planning;

/// <summary>A stage as planned: its token budget and how its data is packed.</summary>
public sealed record PlannedStage(string Name, double Tokens, string Packing, string Mixture);

/// <summary>The hardware and parallelism a plan assumes ([plan] in a recipe's TOML).</summary>
public sealed class PlanOptions
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
/// GPU and expected wall time. Memory follows the usual accounting for mixed precision with AdamW (FP32 master weights
/// 4 B, FP32 gradients 4 B, two FP32 moments 8 B per parameter, sharded by ZeRO stage) and Korthikanti et al. (2022) for
/// activations: per layer s·b·h·(34 + 5·a·s/h) bytes without recomputation, 2·s·b·h (the layer input) with full activation
/// checkpointing plus one layer's worth being recomputed. The FP32 islands (RoPE, RMSNorm, softmax) add to activations
/// beyond this; treat the figure as an estimate, not a promise.
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

    int DataParallel => Hardware.Gpus / Hardware.PipelineParallel;

    /// <summary>Optimizer steps of a stage: its tokens over the global batch, rounded up.</summary>
    public long Steps(PlannedStage stage) => (long)Math.Ceiling(stage.Tokens / GlobalBatchTokens);

    /// <summary>Micro-batches each data-parallel replica accumulates per step.</summary>
    public long GradientAccumulation => Math.Max(1, (long)Math.Ceiling((double)GlobalBatchTokens / ((long)SequenceLength * MicroBatch * DataParallel)));

    public MemoryEstimate MemoryPerGpu()
    {
        double n = (double)Model.Parameters / Hardware.PipelineParallel, dp = DataParallel;
        double weights = 4 * n, grads = 4 * n, state = 8 * n;
        if (Hardware.ZeroStage >= 1) state /= dp;
        if (Hardware.ZeroStage >= 2) grads /= dp;
        if (Hardware.ZeroStage >= 3) weights /= dp;
        double s = SequenceLength, b = MicroBatch, h = Model.HiddenSize, a = Model.Heads, layers = (double)Model.Layers / Hardware.PipelineParallel;
        double fullLayer = s * b * h * (34 + 5 * a * s / h);
        double activations = ActivationCheckpointing ? layers * 2 * s * b * h + fullLayer : layers * fullLayer;
        activations += s * b * Model.VocabSize * (2 + 4);   // BF16 logits and their FP32 copy for the loss
        return new MemoryEstimate(weights, grads, state, activations);
    }

    /// <summary>Model FLOP/s per GPU the plan assumes.</summary>
    public double FlopsPerGpu => Hardware.AchievedFlops > 0 ? Hardware.AchievedFlops : Hardware.Mfu * Hardware.PeakFlops;

    /// <summary>Tokens per second across all GPUs.</summary>
    public double TokensPerSecond => FlopsPerGpu * Hardware.Gpus / Model.TrainingFlopsPerToken(SequenceLength);

    public TimeSpan Duration(PlannedStage stage) => TimeSpan.FromSeconds(Steps(stage) * (double)GlobalBatchTokens / TokensPerSecond);

    /// <summary>The plan as a readable table.</summary>
    public string Render()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"Model: {Model.Parameters / 1e9:F2}B parameters (vocab {Model.VocabSize:N0}, d {Model.HiddenSize}, {Model.Layers} layers, {Model.Heads} heads); " +
                         $"{Model.TrainingFlopsPerToken(SequenceLength) / 1e9:F1} GFLOP/token at T={SequenceLength}");
        sb.AppendLine(c, $"Batch: {GlobalBatchTokens:N0} tokens/step = {DataParallel} data-parallel × {MicroBatch} × {SequenceLength} × {GradientAccumulation} accumulation{(Hardware.PipelineParallel > 1 ? $"; pipeline parallel {Hardware.PipelineParallel}" : "")}");
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
        sb.AppendLine(c, $"Memory per GPU (ZeRO-{Hardware.ZeroStage}, activation checkpointing {(ActivationCheckpointing ? "on" : "off")}): " +
                         $"weights {m.Weights / GiB:F1} + gradients {m.Gradients / GiB:F1} + optimizer {m.OptimizerState / GiB:F1} + activations {m.Activations / GiB:F1} = " +
                         $"{m.Total / GiB:F1} GiB of {Hardware.GpuMemoryGib:F0} GiB{(m.Total / GiB > Hardware.GpuMemoryGib ? "  ← DOES NOT FIT" : "")}");
        sb.AppendLine(c, $"Throughput: {FlopsPerGpu / 1e12:F0} TFLOP/s per GPU × {Hardware.Gpus} GPUs = {TokensPerSecond:N0} tokens/s");
        return sb.ToString();
    }

    static string Format(double tokens) => tokens >= 1e9 ? $"{tokens / 1e9:F1}B" : tokens >= 1e6 ? $"{tokens / 1e6:F1}M" : $"{tokens:N0}";
    static string FormatTime(TimeSpan t) => t.TotalDays >= 1 ? $"{t.TotalDays:F1} days" : t.TotalHours >= 1 ? $"{t.TotalHours:F1} h" : $"{t.TotalMinutes:F1} min";
}
