using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Parquet;
using Parquet.Schema;
using Ziya2.Data;
using Ziya2.DataFactory.Pipeline;
using Ziya2.Events;
using Ziya2.DataFactory.Reading;

namespace Ziya2.DataFactory.Tests;

sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("ziya2-df-").FullName;
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}

/// <summary>Drops documents containing "spam"; throws on "boom".</summary>
sealed class SpamFilter : IDataFilter
{
    public FilterDecision Apply(Document d) =>
        d.Text.Contains("boom") ? throw new InvalidOperationException("exploded") :
        d.Text.Contains("spam") ? FilterDecision.Drop("spam") : FilterDecision.Keep();
}

/// <summary>Upper-cases and records the length.</summary>
sealed class UpperFilter : IDataFilter
{
    public FilterDecision Apply(Document d) => FilterDecision.Rewrite((d with { Text = d.Text.ToUpperInvariant() }).WithAttribute("len", d.Text.Length));
}

public class PipelineTests
{
    static DataPipeline Pipeline(int parallelism = 2, long maxShardBytes = 256L << 20, bool force = false) =>
        new([new PipelineStep("spam", () => new SpamFilter()), new PipelineStep("upper", () => new UpperFilter())],
            new PipelineOptions { Parallelism = parallelism, MaxShardBytes = maxShardBytes, Force = force });

    static List<JsonObject> ReadAll(string dir) =>
        Directory.GetFiles(dir, "*.jsonl.zst").Order(StringComparer.Ordinal).SelectMany(f =>
        {
            using var s = new ZstdSharp.DecompressionStream(File.OpenRead(f));
            using var r = new StreamReader(s);
            return r.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        }).ToList();

    static byte[] Lines(params string[] lines) => Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");

    [Fact]
    public void Every_record_is_kept_or_rejected_with_reason_and_step_and_counts_reconcile()
    {
        using var tmp = new TempDir();
        var input = tmp.Combine("a.jsonl");
        var bytes = new List<byte>();
        bytes.AddRange(Lines("{\"id\":\"1\",\"text\":\"hello\",\"url\":\"http://x\",\"meta\":{\"k\":1}}", "{\"text\":\"buy spam now\"}", "{not json", "", "[1,2]",
            "{\"id\":\"5\",\"title\":\"no text\"}", "{\"id\":\"6\",\"text\":\"boom\"}", "{\"id\":\"7\",\"text\":\"nul\\u0000inside\"}"));
        bytes.AddRange([0xff, 0xfe, (byte)'\n']);   // invalid UTF-8
        bytes.AddRange(Lines("{\"id\":\"9\",\"text\":\"last one\"}"));
        File.WriteAllBytes(input, bytes.ToArray());

        var result = Pipeline().Run(InputShard.Expand([input]), tmp.Combine("out"), "fp");
        var s = result.Stats;
        Assert.Equal((9L, 2L, 7L, 5L), (s.Input, s.Kept, s.Rejected, s.Malformed));
        Assert.Equal(["read", "spam", "upper"], s.Steps.Select(x => x.Name));
        Assert.Equal(new Dictionary<string, long> { ["invalid_json"] = 1, ["invalid_utf8"] = 1, ["missing_text"] = 1, ["not_an_object"] = 1, ["nul_byte"] = 1 }, s.Steps[0].Reasons);
        Assert.Equal(2, s.Steps[1].Reasons.Count);   // spam + error: InvalidOperationException: exploded

        var kept = ReadAll(tmp.Combine("out", "kept"));
        Assert.Equal(["HELLO", "LAST ONE"], kept.Select(k => k["text"]!.GetValue<string>()));
        Assert.Equal(1, kept[0]["meta"]!["k"]!.GetValue<int>());                      // original fields survive
        Assert.Equal(5, kept[0]["attributes"]!["len"]!.GetValue<long>());            // step attributes are written
        var rejected = ReadAll(tmp.Combine("out", "rejected"));
        Assert.Equal(7, rejected.Count);
        Assert.All(rejected, r => { Assert.NotNull(r["reason"]); Assert.NotNull(r["step"]); Assert.NotNull(r["source_line"]); });
        var spam = rejected.Single(r => r["reason"]!.GetValue<string>() == "spam");
        Assert.Equal(("spam", "buy spam now", 2L), (spam["step"]!.GetValue<string>(), spam["text"]!.GetValue<string>(), spam["source_line"]!.GetValue<long>()));
        Assert.Contains(rejected, r => r["reason"]!.GetValue<string>() == "error: InvalidOperationException: exploded");

        var stats = JsonNode.Parse(File.ReadAllText(tmp.Combine("out", "stats.json")))!;
        Assert.Equal((9L, 2L, 7L), (stats["input"]!.GetValue<long>(), stats["kept"]!.GetValue<long>(), stats["rejected"]!.GetValue<long>()));
        Assert.Contains("<svg", File.ReadAllText(tmp.Combine("out", "funnel.svg")));
    }

    [Fact]
    public void Gzip_zstd_parquet_and_text_directories_are_read()
    {
        using var tmp = new TempDir();
        var content = Lines("{\"text\":\"one\"}", "{\"text\":\"two\"}");
        Directory.CreateDirectory(tmp.Combine("in"));
        using (var gz = new GZipStream(File.Create(tmp.Combine("in", "a.jsonl.gz")), CompressionLevel.Fastest)) gz.Write(content);
        using (var file = File.Create(tmp.Combine("in", "b.jsonl.zst")))
        using (var zs = new ZstdSharp.CompressionStream(file)) zs.Write(content);
        WriteParquet(tmp.Combine("in", "c.parquet"), ["three", "four", "five"]);
        Directory.CreateDirectory(tmp.Combine("texts", "sub"));
        File.WriteAllText(tmp.Combine("texts", "x.txt"), "six");
        File.WriteAllText(tmp.Combine("texts", "sub", "y.txt"), "seven");
        var shards = InputShard.Expand([tmp.Combine("in"), tmp.Combine("texts")]);
        Assert.Equal([InputFormat.JsonlGzip, InputFormat.JsonlZstd, InputFormat.Parquet, InputFormat.TextDirectory], shards.Select(s => s.Format));
        var result = Pipeline().Run(shards, tmp.Combine("out"), "fp");
        Assert.True(result.Stats.Kept == 9, string.Join("; ", ReadAll(tmp.Combine("out", "rejected")).Select(r => r.ToJsonString())));
        Assert.Equal(9L, result.Stats.Input);
        Assert.Equal(["ONE", "TWO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SEVEN", "SIX"],
            ReadAll(tmp.Combine("out", "kept")).Select(k => k["text"]!.GetValue<string>()));
    }

    static void WriteParquet(string path, string[] texts)
    {
        var field = new DataField<string>("text");
        using var stream = File.Create(path);
        var writer = ParquetWriter.CreateAsync(new ParquetSchema(field), stream).GetAwaiter().GetResult();
        using (var group = writer.CreateRowGroup()) group.WriteAsync(field, texts, null).GetAwaiter().GetResult();
        writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Fact]
    public void Truncated_compressed_streams_keep_what_was_read_and_report_the_rest()
    {
        using var tmp = new TempDir();
        var many = Lines(Enumerable.Range(0, 2000).Select(i => $"{{\"text\":\"document number {i} with some padding text to make it longer\"}}").ToArray());
        var gzBytes = Compress(many, s => new GZipStream(s, CompressionLevel.Fastest));
        var zsBytes = Compress(many, s => new ZstdSharp.CompressionStream(s));
        File.WriteAllBytes(tmp.Combine("t.jsonl.gz"), gzBytes[..(gzBytes.Length / 2)]);
        File.WriteAllBytes(tmp.Combine("t.jsonl.zst"), zsBytes[..(zsBytes.Length / 2)]);
        var result = Pipeline().Run(InputShard.Expand([tmp.Combine("t.jsonl.gz"), tmp.Combine("t.jsonl.zst")]), tmp.Combine("out"), "fp");
        Assert.Equal(2, result.Stats.Steps[0].Reasons["corrupt_stream"]);
        Assert.InRange(result.Stats.Kept, 1, 3999);
        var report = ReadAll(tmp.Combine("out", "rejected")).Where(r => r["reason"]!.GetValue<string>() == "corrupt_stream").ToList();
        Assert.All(report, r => Assert.Contains("stream unreadable after line", r["detail"]!.GetValue<string>()));
    }

    [Fact]
    public void Corrupt_gzip_that_breaks_the_inflater_is_reported_and_valid_gzip_at_deflates_highest_ratio_is_read()
    {
        using var tmp = new TempDir();
        // bench/fuzz.sh jsonl's findings (tests/fixtures/fuzz/jsonl/crash-76a47479bd97, hang-cc2a3bf786c8): bad Huffman
        // tables that make SharpZipLib throw IndexOutOfRangeException, and 35 bytes it inflates without end.
        File.WriteAllBytes(tmp.Combine("a.jsonl.gz"), Convert.FromHexString("1F8B080000000000020315CAF3A5453920E18C929282622BE4FC5CFDAA0D4D20D9C49292A2CCA4D292D462A09A6AA582A2FCDC8292F8E48CC4229080512DCC30A564251DA8515C24707AD1AEA3000000"));
        File.WriteAllBytes(tmp.Combine("b.jsonl.gz"), Convert.FromHexString("1F8B080000A18B8BE40105028B018B8B8FD1AEA30000A18B8B00010502200000000080"));
        // A real document padded with 50 MB of spaces compresses about 1000:1, near deflate's limit, and must still be read.
        var padded = Lines($"{{\"text\":\"kept{new string(' ', 50_000_000)}\"}}");
        File.WriteAllBytes(tmp.Combine("c.jsonl.gz"), Compress(padded, s => new GZipStream(s, CompressionLevel.SmallestSize)));
        var result = Pipeline().Run(InputShard.Expand([tmp.Combine("a.jsonl.gz"), tmp.Combine("b.jsonl.gz"), tmp.Combine("c.jsonl.gz")]), tmp.Combine("out"), "fp");
        Assert.Equal(2, result.Stats.Steps[0].Reasons["corrupt_stream"]);
        var details = ReadAll(tmp.Combine("out", "rejected")).Select(r => r["detail"]!.GetValue<string>()).ToList();
        Assert.Contains(details, d => d.Contains("corrupt gzip stream (IndexOutOfRangeException"));
        Assert.Contains(details, d => d.Contains("beyond deflate's 1032:1"));
        Assert.Equal(["KEPT"], ReadAll(tmp.Combine("out", "kept")).Select(k => k["text"]!.GetValue<string>().Trim()));
    }

    static byte[] Compress(byte[] data, Func<Stream, Stream> wrap)
    {
        var ms = new MemoryStream();
        using (var s = wrap(ms)) s.Write(data);
        return ms.ToArray();
    }

    [Fact]
    public void A_100_MB_line_and_an_empty_file_do_not_stop_the_run()
    {
        using var tmp = new TempDir();
        using (var f = File.Create(tmp.Combine("big.jsonl")))
        {
            f.Write(Lines("{\"text\":\"before\"}"));
            f.Write("{\"text\":\""u8);
            var chunk = Encoding.ASCII.GetBytes(new string('a', 1 << 20));
            for (int i = 0; i < 100; i++) f.Write(chunk);
            f.Write("\"}\n"u8);
            f.Write(Lines("{\"text\":\"after\"}"));
        }
        File.WriteAllBytes(tmp.Combine("empty.jsonl"), []);
        var result = Pipeline().Run(InputShard.Expand([tmp.Combine("big.jsonl"), tmp.Combine("empty.jsonl")]), tmp.Combine("out"), "fp");
        Assert.Equal((3L, 2L, 1L), (result.Stats.Input, result.Stats.Kept, result.Stats.Rejected));
        var tooLong = ReadAll(tmp.Combine("out", "rejected")).Single();
        Assert.Equal(("line_too_long", 2L), (tooLong["reason"]!.GetValue<string>(), tooLong["source_line"]!.GetValue<long>()));
    }

    static Dictionary<string, string> Hashes(string dir) =>
        Directory.GetFiles(dir, "*.jsonl.zst", SearchOption.AllDirectories).ToDictionary(
            f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    static IReadOnlyList<InputShard> ManyShards(TempDir tmp, int shards, int docs)
    {
        Directory.CreateDirectory(tmp.Combine("in"));
        for (int s = 0; s < shards; s++)
            File.WriteAllBytes(tmp.Combine("in", $"s{s}.jsonl"), Lines(Enumerable.Range(0, docs).Select(i => $"{{\"id\":\"{s}-{i}\",\"text\":\"doc {i} of shard {s}{(i % 7 == 0 ? " spam" : "")}\"}}").ToArray()));
        return InputShard.Expand([tmp.Combine("in")]);
    }

    [Fact]
    public void Output_is_deterministic_and_a_killed_run_resumes_to_identical_bytes()
    {
        using var tmp = new TempDir();
        var shards = ManyShards(tmp, 6, 500);
        Pipeline(parallelism: 2, maxShardBytes: 8_000).Run(shards, tmp.Combine("ref"), "fp");
        var reference = Hashes(tmp.Combine("ref"));
        Assert.True(reference.Count > 12);   // small max shard size: several files per shard

        // Kill after two shards (cancellation mid-run), with debris a real kill leaves: a partial .tmp file and a shard
        // renamed into place without its marker.
        using var cts = new CancellationTokenSource();
        int finished = 0;
        var events = new Ziya2.Events.EventBus();
        events.Subscribe(e => { if (e.Name == Ziya2.Events.RunEvents.ShardEnd && Interlocked.Increment(ref finished) == 2) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => Pipeline(parallelism: 1, maxShardBytes: 8_000).Run(shards, tmp.Combine("resumed"), "fp", events, cts.Token));
        File.WriteAllText(tmp.Combine("resumed", "kept", "s5.jsonl-00000.jsonl.zst.tmp"), "partial");
        File.WriteAllText(tmp.Combine("resumed", "kept", "s4.jsonl-00000.jsonl.zst"), "renamed but never marked done");

        var resumed = Pipeline(parallelism: 2, maxShardBytes: 8_000).Run(shards, tmp.Combine("resumed"), "fp");
        Assert.Equal(2, resumed.ShardsSkipped);
        Assert.Equal(reference, Hashes(tmp.Combine("resumed")));
        Assert.Empty(Directory.GetFiles(tmp.Combine("resumed"), "*.tmp", SearchOption.AllDirectories));
        Assert.Equal(3000, resumed.Stats.Input);
    }

    [Fact]
    public void A_different_pipeline_in_the_same_output_is_refused_unless_forced()
    {
        using var tmp = new TempDir();
        var shards = ManyShards(tmp, 2, 10);
        Pipeline().Run(shards, tmp.Combine("out"), "fp-1");
        Assert.Equal(2, Pipeline().Run(shards, tmp.Combine("out"), "fp-1").ShardsSkipped);
        Assert.Throws<PipelineConflictException>(() => Pipeline().Run(shards, tmp.Combine("out"), "fp-2"));
        Assert.Equal(0, Pipeline(force: true).Run(shards, tmp.Combine("out"), "fp-2").ShardsSkipped);
    }

    [Fact]
    public void Gbk_and_big5_inputs_are_recognised_and_converted_to_utf8()
    {
        using var tmp = new TempDir();
        _ = new LegacyEncodings([]);   // registers the code-page encodings
        var gbk = Encoding.GetEncoding("gb18030");
        var big5 = Encoding.GetEncoding("big5");
        const string simplified = "数据工厂把原始网页变成训练文本，我们在这里记录每一个文档的来源。";
        const string traditional = "這是一段繁體中文的句子，我們用來測試傳統漢字的處理與轉換。";
        File.WriteAllBytes(tmp.Combine("gbk.jsonl"), [.. gbk.GetBytes($"{{\"id\":\"g\",\"text\":\"{simplified}\"}}"), (byte)'\n', 0xff, 0xfe, 0x80, (byte)'\n']);
        Directory.CreateDirectory(tmp.Combine("texts"));
        File.WriteAllBytes(tmp.Combine("texts", "b.txt"), big5.GetBytes(traditional));
        var result = Pipeline().Run(InputShard.Expand([tmp.Combine("gbk.jsonl"), tmp.Combine("texts")]), tmp.Combine("out"), "fp");
        Assert.Equal((3L, 2L, 1L), (result.Stats.Input, result.Stats.Kept, result.Stats.Rejected));   // the stray bytes stay invalid
        var kept = ReadAll(tmp.Combine("out", "kept"));
        Assert.Equal(simplified.ToUpperInvariant(), kept[0]["text"]!.GetValue<string>());
        Assert.Equal("gb18030", kept[0]["attributes"]!["source_encoding"]!.GetValue<string>());
        Assert.Equal(traditional, kept[1]["text"]!.GetValue<string>());
        Assert.Equal("big5", kept[1]["attributes"]!["source_encoding"]!.GetValue<string>());
    }

    [Fact]
    public void Mapped_fields_become_document_attributes()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.Combine("qa.jsonl"), Lines("{\"id\":\"1\",\"text\":\"\",\"question\":\"Why?\",\"answer\":\"Because.\",\"score\":3}"));
        var pipeline = new DataPipeline([new PipelineStep("keep", () => new SpamFilter())],
            new PipelineOptions { Fields = new FieldMapping { Attributes = ["question", "answer", "score"] } });
        pipeline.Run(InputShard.Expand([tmp.Combine("qa.jsonl")]), tmp.Combine("out"), "fp");
        var attributes = ReadAll(tmp.Combine("out", "kept")).Single()["attributes"]!;
        Assert.Equal(("Why?", "Because.", 3L), (attributes["question"]!.GetValue<string>(), attributes["answer"]!.GetValue<string>(), attributes["score"]!.GetValue<long>()));
    }

    [Fact]
    public void Reconcile_catches_lost_documents()
    {
        var stats = new PipelineStats { Input = 10, Kept = 6, Rejected = 3, Steps = [new StepStats { Name = "read", Input = 10, Kept = 10 }] };
        Assert.Throws<ReconcileException>(() => stats.Reconcile("test"));
    }
}

