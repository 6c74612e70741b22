using Ziya2.Models;
using Ziya2.Models.Checkpoints;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Ziya2.Plugins.Llama;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Tests.Llama;

public class CheckpointTests
{
    static void AssertSameWeights(LlamaModel a, LlamaModel b)
    {
        var pb = b.Module.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        foreach (var (name, p) in a.Module.named_parameters())
            Assert.True(p.allclose(pb[name], rtol: 0, atol: 0), $"{name} differs");
    }

    [Fact]
    public void Hf_round_trip_is_exact_and_loads_as_a_checkpoint_option()
    {
        using var tmp = new TempDir();
        using var a = new LlamaModel(TinyModels.Options(tied: true));
        HuggingFaceCheckpoint.Save(a, tmp.Combine("hf"));
        Assert.Equal(["config.json", "model.safetensors"], Directory.GetFiles(tmp.Combine("hf")).Select(Path.GetFileName).Order());
        using var b = new LlamaModel(new LlamaOptions { Checkpoint = tmp.Combine("hf") });
        Assert.Equal(a.Config with { InitializerRange = 0 }, b.Config with { InitializerRange = 0 });
        AssertSameWeights(a, b);
    }

    [Fact]
    public void Sharded_save_writes_an_index_and_loads_back_exactly()
    {
        using var tmp = new TempDir();
        using var a = new LlamaModel(TinyModels.Options());
        HuggingFaceCheckpoint.Save(a, tmp.Combine("sharded"), maxShardBytes: 40_000);
        var index = JsonNode.Parse(File.ReadAllText(tmp.Combine("sharded", "model.safetensors.index.json")))!;
        var shards = index["weight_map"]!.AsObject().Select(kv => kv.Value!.GetValue<string>()).Distinct().ToList();
        Assert.True(shards.Count > 2);
        Assert.All(shards, s => Assert.Matches(@"^model-\d{5}-of-\d{5}\.safetensors$", s));
        using var b = new LlamaModel(TinyModels.Options());
        using (no_grad()) foreach (var p in b.Module.parameters()) p.zero_();
        HuggingFaceCheckpoint.Load(b, tmp.Combine("sharded"));
        AssertSameWeights(a, b);
    }

    [Fact]
    public void Bf16_export_stores_bf16_and_loads_into_fp32()
    {
        using var tmp = new TempDir();
        using var a = new LlamaModel(TinyModels.Options());
        ModelExport.Write(a, "hf", tmp.Combine("bf16"), "bf16");
        var header = ReadHeader(tmp.Combine("bf16", "model.safetensors"));
        Assert.Equal("BF16", header["model.embed_tokens.weight"]!["dtype"]!.GetValue<string>());
        using var b = new LlamaModel(new LlamaOptions { Checkpoint = tmp.Combine("bf16") });
        var diff = (a.Module.parameters().First() - b.Module.parameters().First()).abs().max().item<float>();
        Assert.InRange(diff, 1e-9f, 1e-2f);   // rounded to bf16, not garbage
    }

    // ---- corrupt and mismatched files: refused with a message naming the problem, model untouched ----

    static JsonObject ReadHeader(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        return JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, n))!.AsObject();
    }

    static void WriteWithHeader(string path, JsonObject header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var file = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        data.CopyTo(file, 8 + json.Length);
        File.WriteAllBytes(path, file);
    }

    static string Refusal(Action<string> corrupt)
    {
        using var tmp = new TempDir();
        using var good = new LlamaModel(TinyModels.Options());
        HuggingFaceCheckpoint.Save(good, tmp.Combine("ckpt"));
        corrupt(tmp.Combine("ckpt", "model.safetensors"));
        using var target = new LlamaModel(TinyModels.Options());
        var before = target.Module.parameters().Select(p => p.clone()).ToList();
        var e = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.Load(target, tmp.Combine("ckpt")));
        Assert.All(target.Module.parameters().Zip(before), x => Assert.True(x.First.allclose(x.Second, rtol: 0, atol: 0)));
        return e.Message;
    }

    static (JsonObject Header, byte[] Data) Split(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        return (JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, n))!.AsObject(), bytes[(8 + n)..]);
    }

    [Fact]
    public void Truncated_file_is_refused() =>
        Assert.Contains("outside the", Refusal(p => { var b = File.ReadAllBytes(p); File.WriteAllBytes(p, b[..(b.Length - 100)]); }));

    [Fact]
    public void Header_length_beyond_the_file_is_refused() =>
        Assert.Contains("runs past the end", Refusal(p => { var b = File.ReadAllBytes(p); BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)b.Length); File.WriteAllBytes(p, b); }));

    [Fact]
    public void Huge_header_length_is_refused_before_allocating() =>
        Assert.Contains("exceeds the", Refusal(p => { var b = File.ReadAllBytes(p); BinaryPrimitives.WriteUInt64LittleEndian(b, ulong.MaxValue / 2); File.WriteAllBytes(p, b); }));

    [Fact]
    public void Header_with_invalid_utf8_in_a_name_is_refused() => Assert.Contains("not valid UTF-8", Refusal(p =>
    {
        // Found by bench/fuzz.sh safetensors: the JSON reader accepts the bytes and throws InvalidOperationException when the name is read.
        var b = File.ReadAllBytes(p);
        int name = Array.IndexOf(b, (byte)'"', 8) + 1;
        b[name] = 0xC3;   // a lead byte with no continuation
        File.WriteAllBytes(p, b);
    }));

    [Theory]
    [InlineData("dtype", "dtype must be a string (found Array)")]
    [InlineData("__metadata__", "__metadata__ must be an object of strings")]
    public void Header_values_of_the_wrong_json_type_are_refused(string what, string expected) => Assert.Contains(expected, Refusal(p =>
    {
        // Found by bench/fuzz.sh safetensors (tests/fixtures/fuzz/safetensors/crash-d31f0c97f5ac): InvalidOperationException from the JSON reader.
        var (h, data) = Split(p);
        if (what == "dtype") h[h.First(kv => kv.Key != "__metadata__").Key]!["dtype"] = new JsonArray(4, 6);
        else h["__metadata__"] = new JsonArray(1);
        WriteWithHeader(p, h, data);
    }));

    [Fact]
    public void Overlapping_offsets_are_refused() => Assert.Contains("overlap", Refusal(p =>
    {
        var (h, data) = Split(p);
        var names = h.Where(kv => kv.Key != "__metadata__").Select(kv => kv.Key).ToList();
        var first = h[names[0]]!["data_offsets"]!.AsArray();
        // Move the second tensor onto the first one's bytes, same length, and keep the byte counts consistent.
        var second = h[names[1]]!;
        long len = second["data_offsets"]![1]!.GetValue<long>() - second["data_offsets"]![0]!.GetValue<long>();
        long start = first[0]!.GetValue<long>();
        second["data_offsets"] = new JsonArray(start, start + len);
        WriteWithHeader(p, h, data);
    }));

    [Fact]
    public void Unknown_dtype_is_refused() => Assert.Contains("unsupported dtype 'F8_E4M3'", Refusal(p =>
    {
        var (h, data) = Split(p);
        h["model.norm.weight"]!["dtype"] = "F8_E4M3";
        WriteWithHeader(p, h, data);
    }));

    [Fact]
    public void Byte_count_not_matching_the_shape_is_refused() => Assert.Contains("model.norm.weight", Refusal(p =>
    {
        var (h, data) = Split(p);
        h["model.norm.weight"]!["shape"] = new JsonArray(31);
        WriteWithHeader(p, h, data);
    }));

    [Fact]
    public void Shape_mismatch_names_the_tensor()
    {
        using var tmp = new TempDir();
        var wide = TinyModels.Options(); wide.IntermediateSize = 96;
        using (var other = new LlamaModel(wide)) HuggingFaceCheckpoint.Save(other, tmp.Combine("wide"));
        using var target = new LlamaModel(TinyModels.Options());
        var e = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.Load(target, tmp.Combine("wide")));
        Assert.Contains("architecture differs", e.Message);
        // Same config.json but mismatching tensors (e.g. a hand-edited config): the tensor is named.
        File.Copy(Path.Combine(tmp.Path, "wide", "config.json"), tmp.Combine("cfg.json"));
        using (var same = new LlamaModel(TinyModels.Options())) HuggingFaceCheckpoint.Save(same, tmp.Combine("same"));
        File.Copy(tmp.Combine("wide", "model.safetensors"), tmp.Combine("same", "model.safetensors"), overwrite: true);
        e = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.Load(target, tmp.Combine("same")));
        Assert.Contains("tensor 'model.layers.0.mlp.gate_proj.weight' has shape [96, 32], the model expects [64, 32]", e.Message);
    }

    [Fact]
    public void Missing_and_unexpected_keys_are_listed()
    {
        var message = Refusal(p =>
        {
            var (h, data) = Split(p);
            var entry = h["model.norm.weight"]!.DeepClone();
            h.Remove("model.norm.weight");
            h["model.extra.weight"] = entry;
            WriteWithHeader(p, h, data);
        });
        Assert.Contains("missing tensor 'model.norm.weight'", message);
        Assert.Contains("unexpected tensor 'model.extra.weight'", message);
    }

    [Fact]
    public void Missing_shard_is_named()
    {
        using var tmp = new TempDir();
        using var a = new LlamaModel(TinyModels.Options());
        HuggingFaceCheckpoint.Save(a, tmp.Combine("s"), maxShardBytes: 40_000);
        File.Delete(Directory.GetFiles(tmp.Combine("s"), "model-00002-*").Single());
        var e = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.Load(a, tmp.Combine("s")));
        Assert.Contains("missing: model-00002-of-", e.Message);
    }
}
