using Ziya2.Models;
using Ziya2.Models.Checkpoints;
using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Ziya2.Plugins.Llama;
using Ziya2.Plugins.Llama.Checkpoints;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Tests.Llama;

/// <summary>GGUF exports loaded by llama.cpp (LLamaSharp, in its own process) give our logits.</summary>
public class GgufTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static readonly string Probe = typeof(GgufTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "LlamaCppProbe").Value!;

    static LlamaOptions Options(int kvHeads, bool tied) => new()
    {
        VocabSize = 300, HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = kvHeads,
        TieWordEmbeddings = tied, MaxPositionEmbeddings = 128, InitializerRange = 0.3, Seed = 11,
    };

    static float[][] LlamaCpp(string gguf, long[] ids)
    {
        var psi = new ProcessStartInfo("dotnet", [Probe, gguf, string.Join(',', ids)]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"llama.cpp probe failed: {stderr}");
        using var doc = JsonDocument.Parse(stdout.Result);
        return doc.RootElement.GetProperty("logits").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToArray();
    }

    [Theory]
    [InlineData(2, false, "f32", 1e-4)]    // GQA: K permuted with the KV head count
    [InlineData(4, true, "f32", 1e-4)]     // MHA, tied embeddings (no output.weight)
    [InlineData(2, false, "f16", 2e-2)]
    [InlineData(2, false, "bf16", 3e-2)]
    public void Llama_cpp_reproduces_our_logits(int kvHeads, bool tied, string dtype, double tolerance)
    {
        using var tmp = new TempDir();
        using var model = new LlamaModel(Options(kvHeads, tied));
        var gguf = tmp.Combine("model.gguf");
        ModelExport.Write(model, "gguf", gguf, dtype);
        long[] ids = [1, 5, 17, 42, 99, 200, 299, 3, 13, 7];
        using var scope = NewDisposeScope();
        var ours = model.Forward(tensor(ids).unsqueeze(0))[0];
        var theirs = tensor(LlamaCpp(gguf, ids).SelectMany(r => r).ToArray()).reshape(ours.shape);
        var relative = (ours - theirs).abs().max().item<float>() / ours.abs().max().item<float>();
        output.WriteLine($"kv={kvHeads} tied={tied} {dtype}: max |Δ| / max |logit| = {relative:E2}");
        Assert.True(relative <= tolerance, $"{dtype}: relative error {relative:E2}");
        Assert.True(ours.argmax(-1).equal(theirs.argmax(-1)).all().item<bool>() || dtype != "f32");
    }

    [Fact]
    public void Sentencepiece_vocabulary_is_written_and_llama_cpp_tokenizes_like_us()
    {
        using var tmp = new TempDir();
        var tokenizer = Ziya2.Plugins.Tokenizers.SentencePieceTokenizer.Load(Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", "tokenizer", "mini.model"));
        var options = Options(2, false);
        options.VocabSize = 1280;   // 1,200 pieces padded to a multiple of 128, as Ziya2 pads 39,4xx to 39,424
        using var model = new LlamaModel(options);
        var gguf = tmp.Combine("sp.gguf");
        ModelExport.Write(model, "gguf", gguf, "f32", tokenizer);
        foreach (var text in new[] { "Hello world", "数据工厂把原始网页变成训练文本。", "def train_step(model, batch):", "混合中英文 mixed text 12345" })
        {
            var psi = new ProcessStartInfo("dotnet", [Probe, gguf, "--tokenize", text]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEnd();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, stderr);
            Assert.Equal(tokenizer.Encode(text), JsonSerializer.Deserialize<int[]>(stdout)!);
        }
        long[] ids = [1, 500, 900, 1199, 3, 42];
        using var scope = NewDisposeScope();
        var ours = model.Forward(tensor(ids).unsqueeze(0))[0];
        var theirs = tensor(LlamaCpp(gguf, ids).SelectMany(r => r).ToArray()).reshape(ours.shape);
        Assert.True((ours - theirs).abs().max().item<float>() / ours.abs().max().item<float>() <= 1e-4);
    }

    [Fact]
    public void Rope_permutation_matches_the_index_formula()
    {
        int heads = 2, hd = 8, inDim = 3;
        var w = arange(heads * hd * inDim, dtype: ScalarType.Float32).reshape(heads * hd, inDim);
        var g = GgufWriter.PermuteForRope(w, heads);
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < hd / 2; i++)
                for (int j = 0; j < 2; j++)
                    Assert.True(g[h * hd + 2 * i + j].equal(w[h * hd + j * hd / 2 + i]).all().item<bool>());
    }

    [Fact]
    public void Header_carries_llama_metadata_and_byte_vocabulary()
    {
        using var tmp = new TempDir();
        using var model = new LlamaModel(Options(2, false));
        ModelExport.Write(model, "gguf", tmp.Combine("m.gguf"), "f32");
        var bytes = File.ReadAllBytes(tmp.Combine("m.gguf"));
        Assert.Equal("GGUF", Encoding.ASCII.GetString(bytes, 0, 4));
        Assert.Equal(3u, BitConverter.ToUInt32(bytes, 4));
        Assert.Equal(2UL * 9 + 3, BitConverter.ToUInt64(bytes, 8));   // 9 tensors per layer + embd, norm, output
        var text = Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 20000));
        foreach (var key in new[] { "llama.attention.head_count_kv", "llama.rope.freq_base", "tokenizer.ggml.tokens", "<0x0A>", "blk.1.ffn_down.weight" })
            Assert.Contains(key, text);
    }

    [Fact]
    public void Checkpoint_with_its_own_tokenizer_is_not_exported_with_a_placeholder_vocabulary()
    {
        using var tmp = new TempDir();
        using (var m = new LlamaModel(Options(2, false))) HuggingFaceCheckpoint.Save(m, tmp.Combine("ckpt"));
        File.WriteAllBytes(tmp.Combine("ckpt", "tokenizer.model"), [0x0a, 0x00]);
        using var model = new LlamaModel(new LlamaOptions { Checkpoint = tmp.Combine("ckpt") });
        var e = Assert.Throws<ArgumentException>(() => ModelExport.Write(model, "gguf", tmp.Combine("x.gguf"), "f32"));
        Assert.Contains("own tokenizer", e.Message);
        Assert.False(File.Exists(tmp.Combine("x.gguf")));
    }

    [Fact]
    public void Byte_vocabulary_needs_room_for_259_ids()
    {
        using var tmp = new TempDir();
        using var model = new LlamaModel(TinyModels.Options());
        var e = Assert.Throws<ArgumentException>(() => ModelExport.Write(model, "gguf", tmp.Combine("x.gguf"), "f32"));
        Assert.Contains("259", e.Message);
        Assert.False(File.Exists(tmp.Combine("x.gguf")));
    }
}
