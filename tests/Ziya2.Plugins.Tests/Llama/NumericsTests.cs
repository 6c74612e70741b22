using Ziya2.Plugins.Llama;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Tests.Llama;

public class NumericsTests
{
    static Tensor Batch() => arange(0, 2 * 24, dtype: ScalarType.Int64).remainder(61).reshape(2, 24);

    static float Loss(LlamaModel model, Tensor batch)
    {
        using var scope = NewDisposeScope();
        var logits = model.Forward(batch[.., ..^1]);
        return nn.functional.cross_entropy(logits.reshape(-1, model.VocabSize), batch[.., 1..].reshape(-1)).item<float>();
    }

    [Fact]
    public void Bf16_mixed_keeps_fp32_master_weights_and_matches_fp32_loss_closely()
    {
        using var fp32 = new LlamaModel(TinyModels.Options());
        using var mixed = new LlamaModel(TinyModels.Options(precision: Precision.Bf16Mixed));
        Assert.All(mixed.Module.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        var batch = Batch();
        float a = Loss(fp32, batch), b = Loss(mixed, batch);
        Assert.True(Math.Abs(a - b) / a < 1e-2, $"fp32 {a} vs bf16-mixed {b}");
        Assert.NotEqual(a, b);   // bf16 really was used in the matmuls
    }

    [Fact]
    public void Pure_bf16_stores_bf16_weights_and_returns_fp32_logits_close_to_fp32()
    {
        using var fp32 = new LlamaModel(TinyModels.Options());
        using var bf16 = new LlamaModel(TinyModels.Options(precision: Precision.Bf16));
        Assert.All(bf16.Module.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        var batch = Batch();
        using var logits = bf16.Forward(batch);
        Assert.Equal(ScalarType.Float32, logits.dtype);
        float a = Loss(fp32, batch), b = Loss(bf16, batch);
        Assert.True(Math.Abs(a - b) / a < 3e-2, $"fp32 {a} vs bf16 {b}");
    }

    [Fact]
    public void Fp32_islands_are_switchable_and_change_bf16_results()
    {
        var on = TinyModels.Options(precision: Precision.Bf16);
        var off = TinyModels.Options(precision: Precision.Bf16);
        off.RopeFp32 = off.RmsNormFp32 = off.SoftmaxFp32 = false;
        using var a = new LlamaModel(on);
        using var b = new LlamaModel(off);
        using var scope = NewDisposeScope();
        var batch = Batch();
        Assert.False(a.Forward(batch).allclose(b.Forward(batch), rtol: 0, atol: 0));
    }

    [Fact]
    public void Activation_checkpointing_gives_identical_loss_and_gradients()
    {
        using var plain = new LlamaModel(TinyModels.Options());
        using var ckpt = new LlamaModel(TinyModels.Options(checkpointing: true));
        var batch = Batch();
        foreach (var m in new[] { plain, ckpt })
        {
            m.Module.train();
            using var scope = NewDisposeScope();
            var logits = m.Forward(batch[.., ..^1]);
            nn.functional.cross_entropy(logits.reshape(-1, 64), batch[.., 1..].reshape(-1)).backward();
        }
        var a = plain.Module.named_parameters().ToList();
        var b = ckpt.Module.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        var bad = a.Where(x => !x.parameter.grad!.allclose(b[x.name].grad!, rtol: 1e-5, atol: 1e-7))
            .Select(x => $"{x.name}: {x.parameter.grad!.norm().item<float>()} vs {b[x.name].grad!.norm().item<float>()}").ToList();
        Assert.True(bad.Count == 0, "gradients differ: " + string.Join("; ", bad));
        Assert.All(a, x => Assert.True(x.parameter.grad!.abs().sum().item<float>() > 0));
    }

    [Fact]
    public void Document_mask_makes_each_document_independent_of_its_neighbours()
    {
        using var model = new LlamaModel(TinyModels.Options());
        using var scope = NewDisposeScope();
        var docA = tensor(new long[] { 5, 9, 14, 3 }); var docB = tensor(new long[] { 7, 7, 2 });
        var packed = model.Forward(cat([docA, docB]).unsqueeze(0), tensor(new long[] { 0, 0, 0, 0, 1, 1, 1 }).unsqueeze(0));
        var alone = model.Forward(docB.unsqueeze(0));
        Assert.True(packed[0, 4..].allclose(alone[0], rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Flops_per_token_follow_6N_plus_attention()
    {
        using var model = new LlamaModel(TinyModels.Options());
        long d = 32, kv = 16, ff = 64, v = 64;
        double n = 2 * (2 * d * d + 2 * d * kv + 3 * d * ff) + v * d;
        Assert.Equal(6 * n + 12.0 * 2 * d * 16, model.TrainingFlopsPerToken(16));
    }

    [Fact]
    public void Presets_describe_the_paper_models()
    {
        var ziya = new LlamaOptions { Preset = "ziya2-13b" }.Resolve();
        Assert.Equal((39424, 5120, 13824, 40, 40, 40), (ziya.VocabSize, ziya.HiddenSize, ziya.IntermediateSize, ziya.NumHiddenLayers, ziya.NumAttentionHeads, ziya.NumKeyValueHeads));
        Assert.Equal(32000, new LlamaOptions { Preset = "llama2-13b" }.Resolve().VocabSize);
        Assert.Equal(128, new LlamaOptions { Preset = "tiny", HiddenSize = 128 }.Resolve().HiddenSize);   // fields override the preset
        Assert.Contains(new LlamaOptions { Preset = "llama9" }.Validate(), m => m.Contains("unknown preset"));
    }
}

public class InitializationTests
{
    [Fact]
    public void Same_seed_gives_identical_weights_and_another_seed_does_not()
    {
        using var a = new LlamaModel(TinyModels.Options());
        using var b = new LlamaModel(TinyModels.Options());
        var other = TinyModels.Options(); other.Seed = 8;
        using var c = new LlamaModel(other);
        var pa = a.Module.parameters().ToList(); var pb = b.Module.parameters().ToList(); var pc = c.Module.parameters().ToList();
        Assert.All(pa.Zip(pb), x => Assert.True(x.First.allclose(x.Second, rtol: 0, atol: 0)));
        Assert.False(pa[0].allclose(pc[0], rtol: 0, atol: 0));
        Assert.Equal(0.02, pa[0].std().item<float>(), 2);
    }
}
