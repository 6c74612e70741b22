using Ziya2.Plugins.Llama;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Tests.Llama;

/// <summary>
/// Logits against tests/reference/llama_reference.py, an independent float64 NumPy implementation of the HF LLaMA
/// forward whose fixtures are Hugging Face checkpoints written without torch.
/// </summary>
public class ReferenceParityTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Theory]
    [InlineData("mha")]
    [InlineData("gqa")]      // grouped-query attention, sharded checkpoint with index
    [InlineData("tied")]     // tied embeddings, one KV head, rope_theta 5e5
    [InlineData("packed")]   // documents packed in one row: document mask + restarting positions
    public void Fp32_logits_match_the_numpy_reference(string name)
    {
        var expected = Fixtures.Load(name);
        using var model = new LlamaModel(new LlamaOptions { Checkpoint = Fixtures.Case(name) });
        using var scope = NewDisposeScope();
        var ids = Fixtures.Ids(expected.Ids);
        var logits = model.Forward(ids, expected.DocumentIds is null ? null : Fixtures.Ids(expected.DocumentIds));
        var reference = tensor(expected.Logits.SelectMany(r => r.SelectMany(p => p)).ToArray()).reshape(logits.shape);
        var relative = (logits - reference).abs().max().item<float>() / reference.abs().max().item<float>();
        output.WriteLine($"{name}: max |Δ| / max |logit| = {relative:E2}");
        Assert.True(relative <= 1e-4, $"{name}: relative error {relative:E2}");
    }

    [Fact]
    public void Packed_rows_without_a_document_mask_differ_from_the_reference()
    {
        // Guards the test above: the mask must matter for this fixture.
        var expected = Fixtures.Load("packed");
        using var model = new LlamaModel(new LlamaOptions { Checkpoint = Fixtures.Case("packed") });
        using var scope = NewDisposeScope();
        var logits = model.Forward(Fixtures.Ids(expected.Ids));
        var reference = tensor(expected.Logits.SelectMany(r => r.SelectMany(p => p)).ToArray()).reshape(logits.shape);
        Assert.True((logits[0] - reference[0]).abs().max().item<float>() > 1e-2);
    }
}
