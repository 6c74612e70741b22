using System.Reflection;
using System.Text.Json;
using Ziya2.Plugins.Llama;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Tests.Llama;

static class Fixtures
{
    public static string RepoRoot { get; } = typeof(Fixtures).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;
    public static string Case(string name) => Path.Combine(RepoRoot, "tests", "reference", "fixtures", name);

    public sealed record Expected(long[][] Ids, long[][]? DocumentIds, float[][][] Logits);

    public static Expected Load(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Case(name), "expected.json")));
        var r = doc.RootElement;
        long[][] Longs(JsonElement e) => e.EnumerateArray().Select(row => row.EnumerateArray().Select(x => x.GetInt64()).ToArray()).ToArray();
        return new Expected(Longs(r.GetProperty("ids")),
            r.GetProperty("document_ids").ValueKind == JsonValueKind.Null ? null : Longs(r.GetProperty("document_ids")),
            r.GetProperty("logits").EnumerateArray().Select(row => row.EnumerateArray().Select(p => p.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToArray()).ToArray());
    }

    public static Tensor Ids(long[][] rows) => tensor(rows.SelectMany(r => r).ToArray()).reshape(rows.Length, rows[0].Length);
}

sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("ziya2-llama-").FullName;
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}

static class TinyModels
{
    public static LlamaOptions Options(int kvHeads = 2, bool tied = false, Precision precision = Precision.Fp32, bool checkpointing = false) => new()
    {
        VocabSize = 64, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4,
        NumKeyValueHeads = kvHeads, MaxPositionEmbeddings = 64, TieWordEmbeddings = tied, Seed = 7,
        Precision = precision, ActivationCheckpointing = checkpointing,
    };
}
