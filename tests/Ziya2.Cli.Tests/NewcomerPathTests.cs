using System.Globalization;
using System.Text.RegularExpressions;

namespace Ziya2.Cli.Tests;

/// <summary>
/// What a new user runs into, one test per point: one error for one mistake, ranges checked before anything runs,
/// inputs that are skipped said so, and the small things — stdin for decode, readable type names, signs, JSON numbers,
/// links that stay inside the repository. (Progress while training and checkpoints as printed: RecipeRunTests,
/// TrainingRecipeTests; an interruption's exit code: the kernel's HostTests.)
/// </summary>
public sealed class NewcomerPathTests : IDisposable
{
    readonly string _tmp = Directory.CreateTempSubdirectory("ziya2-newcomer-").FullName;

    static string[] ErrorLines(string err) => err.Split('\n').Where(l => l.Contains("error", StringComparison.Ordinal)).ToArray();

    [Theory]
    [InlineData("missing-config")]
    [InlineData("syntax-error")]
    [InlineData("set-without-value")]
    public void One_mistake_gives_one_well_formed_error(string mistake)
    {
        var bad = Path.Combine(_tmp, "bad.toml");
        File.WriteAllText(bad, "[trainer\nlog_every = 3\n");
        string[] args = mistake switch
        {
            "missing-config" => ["validate", "recipes/ziya2.csx", "-c", Path.Combine(_tmp, "nope.toml")],
            "syntax-error" => ["validate", "recipes/ziya2.csx", "-c", "recipes/configs/tiny.toml", "-c", bad],
            _ => ["validate", "recipes/ziya2.csx", "-c", "recipes/configs/tiny.toml", "--set", "trainer.log_every"],
        };
        var (code, _, err) = CliRunner.Run(args);
        Assert.Equal(2, code);
        var errors = ErrorLines(err);
        Assert.True(errors.Length == 1, string.Join("\n", errors));   // the cause, not what follows from it
        Assert.DoesNotContain(": :", err);
        Assert.Contains(mistake switch { "missing-config" => "nope.toml: config file not found", "syntax-error" => "bad.toml:1:", _ => "--set: trainer.log_every: expected key=value" }, errors[0]);
        Assert.Contains("1 problem(s) found; nothing was run.", err);
    }

    [Fact]
    public void A_value_out_of_range_stops_validate_and_the_dry_run_before_anything_runs()
    {
        foreach (var command in new[] { "validate", "run" })
        {
            string[] args = [command, "recipes/ziya2.csx", "-c", "recipes/configs/tiny.toml", "--set", "regime.base.steps=-5", .. command == "run" ? new[] { "--dry-run" } : []];
            var (code, stdout, err) = CliRunner.Run(args);
            Assert.Equal(2, code);
            Assert.Contains("base.steps must be >= 0", err);
            Assert.DoesNotContain("tokens", stdout);   // no plan was printed for -5 steps
        }
    }

    [Fact]
    public void Data_run_says_which_files_it_skips_and_refuses_an_input_with_nothing_to_read()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_tmp, "empty")).FullName;
        var (code, _, err) = CliRunner.Run(["data", "run", "recipes/pipelines/tiny.toml", "--input", empty, "--output", Path.Combine(_tmp, "out-empty")]);
        Assert.Equal(2, code);
        Assert.Contains("an empty directory: nothing to read", err);

        var mixed = Directory.CreateDirectory(Path.Combine(_tmp, "mixed")).FullName;
        File.Copy(Path.Combine(CliRunner.RepoRoot, "recipes/data/tiny.jsonl"), Path.Combine(mixed, "a.jsonl"));
        File.WriteAllBytes(Path.Combine(mixed, "b.bin"), [0, 1, 2, 255]);
        File.WriteAllText(Path.Combine(mixed, "notes.txt"), "not a shard");
        (code, _, err) = CliRunner.Run(["data", "run", "recipes/pipelines/tiny.toml", "--input", mixed, "--output", Path.Combine(_tmp, "out-mixed")]);
        Assert.True(code == 0, err);
        Assert.Contains("warning: 2 file(s) in the input directories are not data files and were skipped (b.bin, notes.txt)", err);
    }

    [Fact]
    public void Tokenizer_decode_reads_stdin_and_names_its_own_options()
    {
        var model = Path.Combine(CliRunner.RepoRoot, "tests/fixtures/tokenizer/mini.model");
        var (code, stdout, err) = CliRunner.Shell($"dotnet '{CliRunner.CliAssembly}' tokenizer encode --tokenizer '{model}' --text 'hello world' --format ids " +
                                                  $"| dotnet '{CliRunner.CliAssembly}' tokenizer decode --tokenizer '{model}'");
        Assert.True(code == 0, err);
        Assert.Equal("hello world", stdout.Trim());
        (code, _, err) = CliRunner.Run(["tokenizer", "decode", "--tokenizer", model, "--ids", "1,x"]);
        Assert.Equal(2, code);
        Assert.Contains("'x' is not an id", err);
        Assert.DoesNotContain("--text", err);
    }

    [Fact]
    public void Validate_lists_each_component_and_binding_once_by_readable_names()
    {
        var (code, stdout, err) = CliRunner.Run(["validate", "recipes/ziya2.csx", "-c", "recipes/configs/tiny.toml"]);
        Assert.True(code == 0, err + stdout);
        Assert.DoesNotContain("Submission#", stdout);
        Assert.DoesNotContain("System.", stdout);
        Assert.Contains("config [regime] → RegimeSettings (recipe)", stdout);
        Assert.Contains("config [model.activation_checkpointing] → bool?", stdout);
        var lines = stdout.Split('\n').Where(l => l.StartsWith("  ", StringComparison.Ordinal)).ToList();
        Assert.Equal(lines.Count, lines.Distinct().Count());
    }

    [Fact]
    public void Scaling_fit_prints_each_loading_with_one_sign()
    {
        // The law's weakest direction on samples that determine it poorly: loadings near zero, of either sign.
        var rows = new List<string> { "tokens,coherence,readability,similarity,loss" };
        foreach (var ch in new[] { 0.6, 0.8 })
            foreach (var v in new[] { 1e8, 1e9, 1e10, 1e11 })
                rows.Add(string.Create(CultureInfo.InvariantCulture, $"{v:R},{ch},0.9,0.7,{Math.Pow((1.66 * ch + 1.98 * 0.9 + 0.7 * 0.7) * v + 1e10, -0.06) + 0.31:R}"));
        var csv = Path.Combine(_tmp, "few.csv");
        File.WriteAllLines(csv, rows);
        var (code, stdout, err) = CliRunner.Run(["scaling", "fit", csv, "--grid", "coarse"]);
        Assert.True(code == 0, err);
        Assert.Contains("weakest direction", stdout);
        Assert.DoesNotMatch(@"[+-][+-]\d", stdout);
    }

    [Fact]
    public void The_docs_link_only_to_files_inside_the_repository()
    {
        var root = CliRunner.RepoRoot;
        var broken = new List<string>();
        foreach (var md in Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Append(Path.Combine(root, "README.md")))
        {
            var text = File.ReadAllText(md);
            foreach (Match m in Regex.Matches(text, @"\]\(([^)#\s]+)(#[^)]*)?\)"))
            {
                var target = m.Groups[1].Value;
                if (target.StartsWith("http", StringComparison.Ordinal)) continue;
                var full = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(md)!, target));
                if (!full.StartsWith(root, StringComparison.Ordinal) || !(File.Exists(full) || Directory.Exists(full))) broken.Add($"{Path.GetFileName(md)}: {target}");
            }
            foreach (Match m in Regex.Matches(text, @"`(\.\./[^`]*)`")) broken.Add($"{Path.GetFileName(md)}: {m.Groups[1].Value} (outside the repository)");
        }
        Assert.True(broken.Count == 0, string.Join("\n", broken));
    }

    public void Dispose() { try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { } }
}
