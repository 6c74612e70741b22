using System.Text.Json;
using Ziya2.Plugins.Llama;
using Ziya2.Training.Data;
using Ziya2.Training.Evaluation;
using Ziya2.Training.Planning;
using static TorchSharp.torch;

namespace Ziya2.Training.Tests;

public sealed class HeldOutLossTests : IDisposable
{
    readonly TempDir _tmp = new();

    [Fact]
    public void Batched_padded_loss_equals_each_document_scored_alone_with_prompts_masked()
    {
        using var model = new LlamaModel(new LlamaOptions { VocabSize = 29, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2, MaxPositionEmbeddings = 64, Seed = 5 });
        var docs = new (int[] Tokens, int Prompt)[] { ([3, 4, 5, 6, 7], 0), ([8, 9, 10, 11, 12, 13, 14, 15], 3), ([16, 17], 0), ([18, 19, 20, 21], 2) };
        using var file = TokenFileBuilder.Write(_tmp.Combine("t"), docs, 29, "letters");

        // By hand: each document alone, summed log-loss over the positions that predict a scored token.
        double sum = 0; long count = 0;
        using (no_grad())
            foreach (var (tokens, prompt) in docs)
            {
                using var scope = NewDisposeScope();
                var logp = nn.functional.log_softmax(model.Forward(tensor(tokens.Select(t => (long)t).ToArray()).unsqueeze(0))[0], 1);
                for (int t = 0; t + 1 < tokens.Length; t++)
                    if (t + 1 >= prompt) { sum -= logp[t, tokens[t + 1]].item<float>(); count++; }
            }

        var (loss, scored) = HeldOutLoss.Measure(model, file, sequenceLength: 16, batchSize: 3);
        Assert.Equal(count, scored);                // 4 + (7 - 2) + 1 + (3 - 1) = 12 answer tokens
        Assert.Equal(12, scored);
        Assert.Equal(sum / count, loss, 5);
        var (unmasked, all) = HeldOutLoss.Measure(model, file, 16, batchSize: 2, maskPrompt: false);
        Assert.Equal(4 + 7 + 1 + 3, all);
        Assert.NotEqual(loss, unmasked);
    }

    public void Dispose() => _tmp.Dispose();
}

public sealed class TrainingPlanTests
{
    // Hugging Face's Llama-2-13b-hf config.json (public).
    const string Llama2_13b = """{"hidden_size": 5120, "intermediate_size": 13824, "num_attention_heads": 40, "num_hidden_layers": 40, "num_key_value_heads": 40, "vocab_size": 32000, "tie_word_embeddings": false}""";

    [Fact]
    public void Parameters_match_the_published_llama2_13b_count()
    {
        var d = ModelDimensions.FromHuggingFaceConfig(Llama2_13b, "test");
        Assert.Equal(13_015_864_320, d.Parameters);   // LlamaForCausalLM("meta-llama/Llama-2-13b-hf").num_parameters()
        Assert.Equal(13_015_864_320 + 2L * 7424 * 5120, (d with { VocabSize = 39424 }).Parameters);   // Ziya2: 39,424 rows in and out
        Assert.Throws<InvalidDataException>(() => ModelDimensions.FromHuggingFaceConfig("""{"hidden_size": 8}""", "cfg.json"));
    }

    [Theory]   // shapes bench/fuzz.sh config-json found escaping as other exceptions (a zero head count divided by zero)
    [InlineData("\"num_attention_heads\": 40", "\"num_attention_heads\": 0", "'num_attention_heads' must be an integer ≥ 1 (found 0)")]
    [InlineData("\"num_attention_heads\": 40", "\"num_attention_heads\": 48", "hidden_size 5120 is not a multiple of num_attention_heads 48")]
    [InlineData("\"vocab_size\": 32000", "\"vocab_size\": 32.00", "'vocab_size' must be an integer")]
    [InlineData("\"vocab_size\": 32000", "\"vocab_size\": \"32000\"", "'vocab_size' must be an integer")]
    [InlineData("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": \"no\"", "'tie_word_embeddings' must be true or false")]
    public void A_malformed_config_is_refused_naming_the_key(string from, string to, string expected) =>
        Assert.StartsWith($"cfg.json: {expected}", Assert.Throws<InvalidDataException>(() => ModelDimensions.FromHuggingFaceConfig(Llama2_13b.Replace(from, to), "cfg.json")).Message);

    static TrainingPlan Plan(PlanOptions hardware, bool checkpointing = false, int weightBytes = 2) => new()
    {
        WeightBytes = weightBytes,
        Model = new ModelDimensions(VocabSize: 100, HiddenSize: 8, IntermediateSize: 16, Layers: 2, Heads: 2, KeyValueHeads: 2, TiedEmbeddings: false),
        Stages = [new PlannedStage("a", 1000, "documents", ""), new PlannedStage("b", 1001, "samples", "")],
        SequenceLength = 10, MicroBatch = 2, GlobalBatchTokens = 100, ActivationCheckpointing = checkpointing, Hardware = hardware,
    };

    [Fact]
    public void Steps_memory_and_time_follow_the_documented_accounting()
    {
        var plan = Plan(new PlanOptions { Gpus = 1, ZeroStage = 0, AchievedFlops = 1e6 });
        Assert.Equal(10, plan.Steps(plan.Stages[0]));
        Assert.Equal(11, plan.Steps(plan.Stages[1]));                 // a partial step still runs
        Assert.Equal(5, plan.GradientAccumulation);                    // 100 tokens / (10 × 2 × 1 replica)
        long n = plan.Model.Parameters;                                // 2·100·8 + 2·(2·64 + 2·64 + 3·8·16 + 16) + 8
        Assert.Equal(1600 + 2 * (128 + 128 + 384 + 16) + 8, n);
        var m = plan.MemoryPerGpu();
        Assert.Equal((2.0 * n, 2.0 * n, 4.0 * n), (m.Weights, m.Gradients, m.OptimizerState));   // BF16 weights, gradients and moments (no ZeRO: no FP32 masters)
        double layer = 10 * 2 * 8 * (34 + 5 * 2 * 10 / 8.0);          // s·b·h·(34 + 5as/h)
        Assert.Equal(2 * layer + 10 * 2 * 100 * 6, m.Activations, 6);
        // Tokens/s = FLOP/s ÷ FLOPs per token; a stage takes its steps' tokens at that rate.
        double perToken = plan.Model.TrainingFlopsPerToken(10);
        Assert.Equal(6.0 * (2 * (128 + 128 + 384) + 800) + 12.0 * 2 * 8 * 10, perToken);
        Assert.Equal(10 * 100 / (1e6 / perToken), plan.Duration(plan.Stages[0]).TotalSeconds, 6);

        // ZeRO-1 over 4 replicas: FP32 master, moments and gradient slice (16 B) sharded; weights and gradients whole.
        var one = Plan(new PlanOptions { Gpus = 4, ZeroStage = 1, AchievedFlops = 1e6 }, weightBytes: 4).MemoryPerGpu();
        Assert.Equal((4.0 * n, 4.0 * n, 4.0 * n), (one.Weights, one.Gradients, one.OptimizerState));
        // ZeRO-2: gradients only during a backward, which frees activations as it makes them.
        var two = Plan(new PlanOptions { Gpus = 4, ZeroStage = 2, AchievedFlops = 1e6 }, weightBytes: 4).MemoryPerGpu();
        Assert.Equal((4.0 * n, 4.0 * n), (two.Weights, two.OptimizerState));
        Assert.Equal(Math.Max(4.0 * n + layer, two.Activations), two.Gradients + two.Activations, 6);
        Assert.True(two.Total < one.Total);
        Assert.Contains("By ZeRO stage over 4 data-parallel ranks: ZeRO-0 ", Plan(new PlanOptions { Gpus = 4, ZeroStage = 1, AchievedFlops = 1e6 }).Render());
        // ZeRO-3 (DeepSpeed's accounting; not this engine) over 4 replicas shards everything; activation checkpointing keeps only layer inputs plus one layer.
        var sharded = Plan(new PlanOptions { Gpus = 4, ZeroStage = 3, AchievedFlops = 1e6 }, checkpointing: true).MemoryPerGpu();
        Assert.Equal((n / 2.0, n / 2.0, 4.0 * n), (sharded.Weights, sharded.Gradients, sharded.OptimizerState));
        Assert.Equal(2 * (2.0 * 10 * 2 * 8) + layer + 10 * 2 * 100 * 6, sharded.Activations, 6);
        Assert.Contains("DOES NOT FIT", Plan(new PlanOptions { Gpus = 1, GpuMemoryGib = 1e-9 }).Render());
        // A global batch the layout cannot hit exactly is rounded up, and steps count the tokens a step really takes.
        var rounded = Plan(new PlanOptions { Gpus = 3, AchievedFlops = 1e6 });
        Assert.Equal((2L, 120L, 9L), (rounded.GradientAccumulation, rounded.StepTokens, rounded.Steps(rounded.Stages[0])));   // 3 × 2 × 10 × 2; ⌈1000 / 120⌉
        Assert.Contains("(global batch asked: 100)", rounded.Render());
        // Pipeline parallelism: a stage holds its share of the layers, but up to PP micro-batches of them in flight.
        var piped = Plan(new PlanOptions { Gpus = 2, PipelineParallel = 2, ZeroStage = 0, AchievedFlops = 1e6 }).MemoryPerGpu();
        Assert.Equal(2 * (1 * layer) + 10 * 2 * 100 * 6, piped.Activations, 6);
        Assert.Contains("gpus must be a positive multiple", string.Join(";", new PlanOptions { Gpus = 3, PipelineParallel = 2 }.Validate()));
    }
}
