namespace Ziya2.Cli.Tests;

/// <summary>
/// bench/kill-resume.sh at a small N: a training run and a data-factory run, each SIGKILLed at random moments (one of
/// the training kills the instant a checkpoint is being written) and resumed, end with the bytes of their straight runs.
/// The recorded figure (N = 30) is in docs/training.md.
/// </summary>
public sealed class KillResumeTests
{
    [Fact]
    public void Runs_killed_anywhere_and_resumed_end_with_the_bytes_of_a_straight_run()
    {
        var (code, stdout, err) = CliRunner.Program("bash", [Path.Combine(CliRunner.RepoRoot, "bench", "kill-resume.sh"), "3"], CliRunner.RepoRoot,
            new Dictionary<string, string> { ["ZIYA2"] = $"dotnet {CliRunner.CliAssembly}", ["TMPDIR"] = Directory.CreateTempSubdirectory("ziya2-kill-").FullName });
        Assert.True(code == 0, stdout + err);
        Assert.Contains("training: 3/3 identical to the straight run", stdout);
        Assert.Contains("1 of 1 checkpoint write", stdout);
        Assert.Contains("data factory: 3/3 identical to the straight run", stdout);
    }
}
