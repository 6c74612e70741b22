using System.IO.Compression;
using System.Text;
using Ziya2.DataFactory.Cluster;
using Ziya2.DataFactory.Reading;
using Ziya2.Kernel.Configuration;
using Ziya2.Models.Checkpoints;
using Ziya2.NGram;
using Ziya2.Plugins.Llama;
using Ziya2.SentencePiece;
using Ziya2.Training;
using Ziya2.Training.Planning;

namespace Ziya2.Fuzz.Tests;

/// <summary>
/// What the framework reads from strangers, one target per reader: each takes any bytes and either reads them or
/// refuses them with the error the CLI turns into exit 2 (<see cref="IsClearError"/>). Anything else escaping — another
/// exception, a crash, a hang, an allocation the input does not justify — is a bug the fuzzer reports.
/// </summary>
public static class FuzzTargets
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["safetensors"] = Safetensors,
        ["config-json"] = ConfigJson,
        ["sentencepiece"] = SentencePiece,
        ["arpa"] = Arpa,
        ["toml"] = Toml,
        ["jsonl"] = Jsonl,
    };

    /// <summary>The refusals a reader may answer bad input with (those ziya2 reports with exit 2).</summary>
    public static bool IsClearError(Exception e) =>
        e is InvalidDataException or ConfigException or FormatException or System.Text.Json.JsonException or ArgumentException and not ArgumentNullException;

    /// <summary>Runs <paramref name="target"/> on <paramref name="input"/>; a clear refusal counts as handled, anything else propagates.</summary>
    public static void Run(string target, byte[] input)
    {
        try { All[target](input); }
        catch (Exception e) when (IsClearError(e)) { }
    }

    static string Temporary(byte[] input, string extension)
    {
        var path = Path.Combine(Path.GetTempPath(), $"ziya2-fuzz-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}{extension}");
        File.WriteAllBytes(path, input);
        return path;
    }

    /// <summary>A checkpoint's safetensors header: bounded, strictly parsed, checked against the file before any tensor is read.</summary>
    static void Safetensors(byte[] input)
    {
        var path = Temporary(input, ".safetensors");
        try { _ = SafetensorsFile.Open(path).Entries.Count; }
        finally { File.Delete(path); }
    }

    /// <summary>A checkpoint's config.json, as the LLaMA model and the training plan read it.</summary>
    static void ConfigJson(byte[] input)
    {
        var json = Encoding.UTF8.GetString(input);
        try { _ = LlamaConfig.FromJson(json, "config.json"); }
        catch (Exception e) when (IsClearError(e)) { }
        _ = ModelDimensions.FromHuggingFaceConfig(json, "config.json").Parameters;
    }

    /// <summary>A tokenizer.model: parsed, then (when it is a BPE model) used to encode and decode a line.</summary>
    static void SentencePiece(byte[] input)
    {
        var model = SentencePieceModel.Parse(input);
        if (model.ModelType != SentencePieceModel.Bpe) return;
        var bpe = new SentencePieceBpe(model);
        var ids = bpe.Encode("Hello, 世界 123\t▁x");
        _ = bpe.Decode(ids);
    }

    /// <summary>
    /// An n-gram model, read: ARPA text, gzip-compressed when it starts like gzip (as <c>lmplz</c>'s often are), or the
    /// binary form <c>ziya2 lm binary</c> writes when it starts with its magic.
    /// </summary>
    static void Arpa(byte[] input)
    {
        if (input is [0x1f, 0x8b, ..] || input.AsSpan().StartsWith("ZIYA2LM"u8))
        {
            var path = Temporary(input, input[0] == 0x1f ? ".arpa.gz" : ".bin");
            try { _ = ArpaModel.Load(path).Order; }
            finally { File.Delete(path); }
            return;
        }
        var model = ArpaModel.Read(new StringReader(Encoding.UTF8.GetString(input)), "fuzz.arpa");
        _ = model.Order;
    }

    /// <summary>A TOML config, read and bound to options with lists, numbers, enums and strings.</summary>
    static void Toml(byte[] input)
    {
        var path = Temporary(input, ".toml");
        try
        {
            var tree = ConfigTree.Load([path], []);
            var binder = new OptionsBinder(tree);
            var errors = new List<ConfigError>();
            _ = binder.Bind(typeof(TrainerOptions), "trainer", errors);
            _ = binder.Bind(typeof(SlurmSettings), "executor.slurm", errors);
            _ = binder.Bind(typeof(LlamaOptions), "model", errors);
        }
        finally { File.Delete(path); }
    }

    /// <summary>
    /// A corpus shard: JSONL, gzip or zstd (by its first bytes, as files are named by theirs), read record by record.
    /// The reader never throws on bad content: it yields malformed records with a reason.
    /// </summary>
    static void Jsonl(byte[] input)
    {
        var extension = input is [0x1f, 0x8b, ..] ? ".jsonl.gz" : input is [0x28, 0xb5, 0x2f, 0xfd, ..] ? ".jsonl.zst" : ".jsonl";
        var path = Temporary(input, extension);
        try
        {
            var shard = InputShard.Expand([path])[0];
            foreach (var record in new ShardReader(new FieldMapping(), maxLineBytes: 1 << 20).Read(shard)) _ = record;
        }
        finally { File.Delete(path); }
    }
}
