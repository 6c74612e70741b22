using System.Text.Json;

namespace Ziya2.Cli.Tests;

public sealed class EvalCommandTests : IDisposable
{
    readonly string _tmp = Directory.CreateTempSubdirectory("ziya2-eval-cli-").FullName;

    [Fact]
    public void Eval_scores_every_benchmark_format_writes_results_and_appends_scaling_samples()
    {
        var checkpoint = Checkpoint("ckpt");
        int code;
        string err;
        const string F = "tests/fixtures/benchmarks";
        var results = Path.Combine(_tmp, "results.json");
        var samples = Path.Combine(_tmp, "samples.csv");
        string[] args =
        [
            "eval", checkpoint, "--mmlu", $"{F}/mmlu", "--cmmlu", $"{F}/cmmlu", "--ceval", $"{F}/ceval", "--gsm8k", $"{F}/gsm8k/test.jsonl", "--gsm8k-shots", $"{F}/gsm8k/train.jsonl",
            "--math", $"{F}/math/test", "--math-shots", $"{F}/math/train", "--humaneval", $"{F}/humaneval/HumanEval.jsonl", "--shots", "2", "--max-new-tokens", "8",
            "--out", results, "--scaling-samples", samples, "--tokens", "1e6", "--coherence", "0.8", "--readability", "0.9",
            "--similarity", "mmlu=0.6", "--similarity", "cmmlu=0.6", "--similarity", "ceval=0.6", "--similarity", "gsm8k=0.5", "--similarity", "math=0.5", "--similarity", "humaneval=0.4",
        ];
        string stdout;
        (code, stdout, err) = CliRunner.Run(args);
        Assert.True(code == 0, err + stdout);
        var json = JsonDocument.Parse(File.ReadAllText(results)).RootElement;
        var byName = json.GetProperty("results").EnumerateArray().ToDictionary(r => r.GetProperty("benchmark").GetString()!);
        Assert.Equal(["mmlu", "cmmlu", "ceval", "gsm8k", "math", "humaneval"], byName.Keys);
        Assert.Equal([4, 2, 2, 2, 2, 2], byName.Values.Select(r => r.GetProperty("count").GetInt32()));
        Assert.All(byName.Values, r => Assert.InRange(r.GetProperty("score").GetDouble(), 0, 1));
        Assert.Equal(JsonValueKind.Null, json.GetProperty("paper_table3").ValueKind);   // Table 3 is shown for 13B models only

        // One scaling-law sample per benchmark; a second evaluation appends below the first.
        var lines = File.ReadAllLines(samples);
        Assert.Equal("tokens,coherence,readability,similarity,loss,benchmark,checkpoint", lines[0]);
        Assert.Equal(7, lines.Length);
        Assert.StartsWith("1000000,0.8,0.9,0.4,", lines[6]);
        Assert.Equal(0, CliRunner.Run(args).Code);
        Assert.Equal(13, File.ReadAllLines(samples).Length);
        Assert.Equal(lines, File.ReadAllLines(samples).Take(7));

        // Held-out perplexity of a source tokenised with the checkpoint's tokenizer; a directory whose manifest names another tokenizer is refused.
        var tokens = Path.Combine(_tmp, "tokens");
        Assert.Equal(0, CliRunner.Run(["data", "tokenize", "--tokenizer", Path.Combine(checkpoint, "tokenizer.model"), "--input", "recipes/data/tiny.jsonl", "--output", tokens]).Code);
        (code, stdout, err) = CliRunner.Run(["eval", checkpoint, "--heldout", $"tiny={tokens}", "--out", results]);
        Assert.True(code == 0, err);
        var heldout = Assert.Single(JsonDocument.Parse(File.ReadAllText(results)).RootElement.GetProperty("results").EnumerateArray());
        Assert.Equal("heldout:tiny", heldout.GetProperty("benchmark").GetString());
        Assert.Equal(Math.Exp(heldout.GetProperty("answer_loss").GetDouble()), heldout.GetProperty("score").GetDouble(), 9);
        Assert.Contains("perplexity", stdout);
        var other = Path.Combine(_tmp, "other-tokens");
        Assert.Equal(0, CliRunner.Run(["data", "tokenize", "--tokenizer", "data/samples/tokenizer/base.model", "--input", "recipes/data/tiny.jsonl", "--output", other]).Code);
        File.WriteAllText(Path.Combine(other, "manifest.json"), File.ReadAllText(Path.Combine(other, "manifest.json")).Replace("\"tokenizer_hash\": \"", "\"tokenizer_hash\": \"0"));
        (code, _, err) = CliRunner.Run(["eval", checkpoint, "--heldout", $"other={other}"]);
        Assert.Equal(2, code);
        Assert.Contains("was tokenised with another tokenizer", err);

        (code, _, err) = CliRunner.Run(["eval", checkpoint, "--mmlu", $"{F}/mmlu", "--scaling-samples", samples, "--tokens", "1", "--coherence", "1", "--readability", "1"]);
        Assert.Equal(2, code);
        Assert.Contains("--similarity has no value for mmlu", err);
        (code, _, err) = CliRunner.Run(["eval", checkpoint]);
        Assert.Equal(2, code);
        Assert.Contains("name at least one benchmark", err);
    }

    [Fact]
    public void HumanEval_runs_confined_and_without_bubblewrap_is_refused_unless_unsafe_exec_is_given()
    {
        var checkpoint = Checkpoint("ckpt-h");
        int code;
        string err;
        string[] args = ["eval", checkpoint, "--humaneval", "tests/fixtures/benchmarks/humaneval/HumanEval.jsonl", "--max-new-tokens", "4"];
        var noBubblewrap = new Dictionary<string, string> { ["ZIYA2_BWRAP"] = Path.Combine(_tmp, "no-bwrap") };
        (code, var stdout, err) = CliRunner.Program("dotnet", [CliRunner.CliAssembly, .. args], CliRunner.RepoRoot, noBubblewrap);
        Assert.Equal(2, code);
        Assert.Contains("bubblewrap (bwrap) is not installed", err);
        Assert.Contains("pass --unsafe-exec", err);
        Assert.DoesNotContain("humaneval", stdout);                       // refused before the model ran

        (code, stdout, err) = CliRunner.Program("dotnet", [CliRunner.CliAssembly, .. args, "--unsafe-exec"], CliRunner.RepoRoot, noBubblewrap);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("HumanEval: completions run UNCONFINED", err);
        Assert.Contains("humaneval  pass@1", stdout);

        if (File.Exists("/usr/bin/bwrap") || Environment.GetEnvironmentVariable("ZIYA2_REQUIRE_SANDBOX") == "1")
        {
            (code, stdout, err) = CliRunner.Run(args);
            Assert.True(code == 0, err + stdout);
            Assert.Contains("HumanEval: completions run in bubblewrap", err);
        }
    }

    /// <summary>A tiny random LLaMA with the fixture tokenizer beside it.</summary>
    string Checkpoint(string name)
    {
        var checkpoint = Path.Combine(_tmp, name);
        var (code, _, err) = CliRunner.Run(["model", "init", "--set", "preset=tiny", "--set", "vocab_size=1200", "--set", "max_position_embeddings=1024",
            "--tokenizer", "tests/fixtures/tokenizer/mini.model", "--out", checkpoint]);
        Assert.True(code == 0, err);
        return checkpoint;
    }

    public void Dispose() { try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { } }
}
