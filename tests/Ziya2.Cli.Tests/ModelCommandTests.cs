using System.Text.Json;

namespace Ziya2.Cli.Tests;

public sealed class ModelCommandTests : IDisposable
{
    static readonly string RepoRoot = CliRunner.RepoRoot;
    static string Fixture(string name) => Path.Combine(RepoRoot, "tests", "reference", "fixtures", name);
    readonly string _tmp = Directory.CreateTempSubdirectory("ziya2-model-").FullName;

    static (int Code, string Out, string Err) Ziya2(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void Score_gives_the_reference_log_probabilities()
    {
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixture("mha"), "expected.json")));
        var ids = expected.RootElement.GetProperty("ids")[0].EnumerateArray().Select(x => x.GetInt64()).ToArray();
        var logits = expected.RootElement.GetProperty("logits")[0].EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();
        var (code, stdout, err) = Ziya2("model", "score", Fixture("mha"), "--ids", string.Join(',', ids), "--json", "--top-k", "3");
        Assert.True(code == 0, err);
        var positions = JsonDocument.Parse(stdout).RootElement.GetProperty("positions").EnumerateArray().ToList();
        Assert.Equal(ids.Length, positions.Count);
        Assert.Equal(JsonValueKind.Null, positions[0].GetProperty("logprob").ValueKind);
        for (int i = 1; i < ids.Length; i++)
        {
            var row = logits[i - 1];
            var max = row.Max();
            var expectedLogProb = row[ids[i]] - max - Math.Log(row.Sum(x => Math.Exp(x - max)));
            Assert.Equal(expectedLogProb, positions[i].GetProperty("logprob").GetDouble(), 3);
        }
        var top = positions[2].GetProperty("top")[0];
        Assert.Equal(Array.IndexOf(logits[2], logits[2].Max()), top.GetProperty("id").GetInt32());
    }

    [Fact]
    public void Info_reports_parameters_and_flops()
    {
        var (code, stdout, err) = Ziya2("model", "info", Fixture("gqa"), "--json", "--seq-len", "16");
        Assert.True(code == 0, err);
        var root = JsonDocument.Parse(stdout).RootElement;
        // vocab 64, d 32, ff 48, 2 layers, 4 heads / 2 KV heads, untied
        long d = 32, kv = 16, layer = 2 * d * d + 2 * d * kv + 3 * d * 48 + 2 * d;
        Assert.Equal(2 * 64 * d + 2 * layer + d, root.GetProperty("parameters").GetInt64());
        Assert.Equal(2, root.GetProperty("config").GetProperty("num_key_value_heads").GetInt32());
    }

    [Fact]
    public void Export_writes_gguf_and_hf_and_generate_is_deterministic()
    {
        var gguf = Path.Combine(_tmp, "m.gguf");
        var (code, _, err) = Ziya2("model", "export", Fixture("tied"), "--format", "hf", "--dtype", "f16", "--out", Path.Combine(_tmp, "hf"));
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(_tmp, "hf", "model.safetensors")));
        var a = Ziya2("model", "generate", Path.Combine(_tmp, "hf"), "--ids", "1,2,3", "--max-new-tokens", "6", "--temperature", "0.8", "--seed", "5");
        var b = Ziya2("model", "generate", Path.Combine(_tmp, "hf"), "--ids", "1,2,3", "--max-new-tokens", "6", "--temperature", "0.8", "--seed", "5");
        Assert.True(a.Code == 0, a.Err);
        Assert.Equal(a.Out, b.Out);
        (code, _, err) = Ziya2("model", "export", Fixture("tied"), "--format", "gguf", "--out", gguf);
        Assert.Equal(2, code);   // vocabulary 64 < 259: no byte vocabulary fits, and the message says so
        Assert.Contains("259", err);
    }

    [Fact]
    public void Bad_checkpoint_and_bad_options_exit_2()
    {
        Assert.Equal(2, Ziya2("model", "info", _tmp).Code);
        var (code, _, err) = Ziya2("model", "info", Fixture("mha"), "--set", "precision=fp8");
        Assert.Equal(2, code);
        Assert.Contains("expected one of fp32, bf16_mixed, bf16", err);
    }

    public void Dispose() { try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { } }
}

public sealed class ModelTextTests : IDisposable
{
    static readonly string RepoRoot = CliRunner.RepoRoot;
    readonly string _tmp = Directory.CreateTempSubdirectory("ziya2-text-").FullName;

    static (int Code, string Out, string Err) Ziya2(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void Tokenizer_extend_resizes_a_checkpoint_and_text_commands_use_its_tokenizer()
    {
        var dir = Path.Combine(RepoRoot, "tests", "fixtures", "tokenizer");
        var baseDir = Path.Combine(_tmp, "base");
        var (code, _, err) = Ziya2("model", "init", "--set", "preset=tiny", "--set", "vocab_size=1200", "--tokenizer", Path.Combine(dir, "mini.model"), "--out", baseDir);
        Assert.True(code == 0, err);

        (code, var extendOut, err) = Ziya2("tokenizer", "extend", "--base", Path.Combine(baseDir, "tokenizer.model"), "--corpus", Path.Combine(dir, "chinese_extra.txt"),
            "--count", "100", "--out", Path.Combine(_tmp, "ext"), "--model", baseDir);
        Assert.True(code == 0, err);
        Assert.Contains("vocabulary 1200 → 1300", extendOut);
        Assert.Contains("model rows 1200 → 1408 (multiple of 128)", extendOut);
        Assert.Contains("fewer tokens than base on Chinese", extendOut);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "extended.model")), File.ReadAllBytes(Path.Combine(_tmp, "ext", "tokenizer.model")));

        // The extended checkpoint loads, and --text goes through its tokenizer (bos first, new CJK pieces used).
        (code, var scored, err) = Ziya2("model", "score", Path.Combine(_tmp, "ext"), "--text", "龙舟比赛 Hello", "--json");
        Assert.True(code == 0, err);
        var tokens = JsonDocument.Parse(scored).RootElement.GetProperty("tokens").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        Assert.Equal(1, tokens[0]);
        (code, var encoded, err) = Ziya2("tokenizer", "encode", "--tokenizer", Path.Combine(_tmp, "ext"), "--text", "龙舟比赛 Hello", "--bos");
        Assert.True(code == 0, err);
        Assert.Equal(JsonSerializer.Deserialize<int[]>(encoded)!, tokens);
        Assert.Contains(tokens, id => id >= 1200);
        (code, var decoded, err) = Ziya2("tokenizer", "decode", "--tokenizer", Path.Combine(_tmp, "ext", "tokenizer.model"), "--ids", string.Join(',', tokens));
        Assert.True(code == 0, err);
        Assert.Equal("龙舟比赛 Hello", decoded.TrimEnd('\n'));
        (code, _, err) = Ziya2("model", "generate", Path.Combine(_tmp, "ext"), "--text", "数据", "--max-new-tokens", "4");
        Assert.True(code == 0, err);
        (code, _, err) = Ziya2("model", "export", Path.Combine(_tmp, "ext"), "--format", "gguf", "--out", Path.Combine(_tmp, "ext.gguf"));
        Assert.True(code == 0, err);
        Assert.True(new FileInfo(Path.Combine(_tmp, "ext.gguf")).Length > 0);
    }

    [Fact]
    public void Tokenizer_extend_on_a_corpus_in_both_scripts_adds_simplified_and_traditional_characters_and_says_how_many()
    {
        var corpus = Path.Combine(_tmp, "mixed.txt");
        // The same sentences in simplified and in traditional script (OpenCC's t2s maps the second onto the first).
        File.WriteAllLines(corpus, Enumerable.Repeat(new[] { "龙舟比赛在这里举行，观众很多。", "龍舟比賽在這裡舉行，觀眾很多。" }, 20).SelectMany(x => x));
        var (code, stdout, err) = Ziya2("tokenizer", "extend", "--base", Path.Combine(RepoRoot, "tests", "fixtures", "tokenizer", "mini.model"),
            "--corpus", corpus, "--count", "40", "--out", Path.Combine(_tmp, "both"));
        Assert.True(code == 0, err + stdout);
        var split = System.Text.RegularExpressions.Regex.Match(stdout, @"scripts: (\d+) simplified or shared, (\d+) traditional \(e\.g\. ([^)]*)\)");
        Assert.True(split.Success, stdout);
        Assert.True(int.Parse(split.Groups[1].Value) > 0 && int.Parse(split.Groups[2].Value) > 0, split.Value);
        Assert.Contains("龍", split.Groups[3].Value);
        // The traditional "dragon" is a new single piece of the extended vocabulary (the base had only byte pieces for it).
        (code, var encoded, err) = Ziya2("tokenizer", "encode", "--tokenizer", Path.Combine(_tmp, "both"), "--text", "龍");
        Assert.True(code == 0, err);
        var ids = JsonSerializer.Deserialize<int[]>(encoded)!;
        Assert.True(ids.Length <= 2 && ids[^1] >= 1200, encoded);   // (a leading word-boundary piece, then the character)
    }

    public void Dispose() { try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { } }
}
