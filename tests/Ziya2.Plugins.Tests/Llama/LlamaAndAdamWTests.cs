using Ziya2.Models;
using Ziya2.Models.Checkpoints;
using TorchSharp;
using Ziya2.Plugins.Llama;
using Ziya2.Plugins.Optimizers;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Tests;

public class LlamaAndAdamWTests
{
    static LlamaOptions Tiny(int kvHeads = 2) => new()
    {
        VocabSize = 64, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4,
        NumKeyValueHeads = kvHeads, MaxPositionEmbeddings = 32, Seed = 7,
    };

    [Fact]
    public void Forward_gives_logits_per_position_and_parameter_count_matches_the_formula()
    {
        using var model = new LlamaModel(Tiny());
        using var scope = NewDisposeScope();
        var logits = model.Module.forward(randint(0, 64, [3, 10], dtype: ScalarType.Int64));
        Assert.Equal(new long[] { 3, 10, 64 }, logits.shape);
        // embed + head + per layer (q,o: d², k,v: d·kv·hd, mlp: 3·d·ff, 2 norms) + final norm
        long d = 32, kv = 2 * 8, ff = 64, layer = 2 * d * d + 2 * d * kv + 3 * d * ff + 2 * d;
        Assert.Equal(2 * 64 * d + 2 * layer + d, ((ILanguageModel)model).ParameterCount);
    }

    [Fact]
    public void Attention_is_causal_future_tokens_do_not_change_past_logits()
    {
        using var model = new LlamaModel(Tiny());
        using var scope = NewDisposeScope();
        var a = tensor(new long[] { 1, 2, 3, 4, 5, 6 }).unsqueeze(0);
        var b = tensor(new long[] { 1, 2, 3, 9, 9, 9 }).unsqueeze(0);
        var la = model.Module.forward(a)[.., ..3];
        var lb = model.Module.forward(b)[.., ..3];
        Assert.True(la.allclose(lb, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Save_and_load_round_trip_exactly_and_a_broken_checkpoint_is_refused_untouched()
    {
        var dir = Directory.CreateTempSubdirectory("ziya2-llama-").FullName;
        try
        {
            using var a = new LlamaModel(Tiny());
            HuggingFaceCheckpoint.Save(a, Path.Combine(dir, "ckpt"));
            using var b = new LlamaModel(Tiny());
            using (no_grad()) foreach (var p in b.Module.parameters()) p.add_(1.0);
            HuggingFaceCheckpoint.Load(b, Path.Combine(dir, "ckpt"));
            var ids = tensor(new long[] { 3, 1, 4, 1, 5 }).unsqueeze(0);
            Assert.True(a.Module.forward(ids).allclose(b.Module.forward(ids), rtol: 0, atol: 0));

            var weights = Path.Combine(dir, "ckpt", "model.safetensors");
            var bytes = File.ReadAllBytes(weights);
            File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
            var before = b.Module.forward(ids);
            Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.Load(b, Path.Combine(dir, "ckpt")));
            Assert.True(before.allclose(b.Module.forward(ids), rtol: 0, atol: 0)); // live weights untouched
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void AdamW_reduces_loss_excludes_norms_from_decay_and_restores_state_exactly()
    {
        var dir = Directory.CreateTempSubdirectory("ziya2-adamw-").FullName;
        try
        {
            using var model = new LlamaModel(Tiny());
            var groups = ((ILanguageModel)model).GetParameterGroups();
            Assert.All(groups.Single(g => g.Name == "no_decay").Parameters, p => Assert.Equal(1, p.dim()));
            using var opt = new AdamWFactory(new AdamWOptions { Lr = 1e-2 }).Create(groups);
            var x = tensor(Enumerable.Range(0, 16).Select(i => (long)(i % 8)).ToArray()).unsqueeze(0);
            float Step()
            {
                using var scope = NewDisposeScope();
                opt.ZeroGrad();
                var loss = nn.functional.cross_entropy(model.Module.forward(x[.., ..^1]).view(-1, 64), x[.., 1..].reshape(-1));
                loss.backward();
                opt.Step();
                return loss.item<float>();
            }
            var first = Step();
            for (int i = 0; i < 20; i++) Step();
            Assert.True(Step() < first * 0.5);

            opt.SaveState(Path.Combine(dir, "opt.bin"));
            HuggingFaceCheckpoint.Save(model, Path.Combine(dir, "m"));
            var continued = Step();
            HuggingFaceCheckpoint.Load(model, Path.Combine(dir, "m"));
            opt.LoadState(Path.Combine(dir, "opt.bin"));
            Assert.Equal(continued, Step());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Invalid_architecture_is_reported() =>
        Assert.Contains(new LlamaOptions { HiddenSize = 30, NumAttentionHeads = 4, VocabSize = 10 }.Validate(), m => m.Contains("divisible"));
}
