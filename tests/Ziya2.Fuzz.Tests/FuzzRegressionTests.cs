using System.Reflection;

namespace Ziya2.Fuzz.Tests;

/// <summary>
/// Every input in tests/fixtures/fuzz/&lt;target&gt;/ — the seeds bench/fuzz.sh starts from and each input a fuzzer found
/// that once crashed, hung or escaped with another exception — is read or clearly refused, in bounded time.
/// </summary>
public sealed class FuzzRegressionTests
{
    static string Fixtures => Path.Combine(typeof(FuzzRegressionTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!, "tests", "fixtures", "fuzz");

    public static IEnumerable<object[]> Inputs() =>
        FuzzTargets.All.Keys.SelectMany(t => Directory.Exists(Path.Combine(Fixtures, t)) ? Directory.GetFiles(Path.Combine(Fixtures, t)).Order(StringComparer.Ordinal).Select(f => new object[] { t, Path.GetFileName(f) }) : []);

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Each_kept_input_is_read_or_clearly_refused(string target, string file)
    {
        var input = File.ReadAllBytes(Path.Combine(Fixtures, target, file));
        var run = Task.Run(() => FuzzTargets.Run(target, input));
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(20))) == run, $"{target}/{file} did not finish in 20 s");
        await run;   // an exception that is not a clear refusal fails the test here
    }

    [Fact]
    public void Every_target_has_seeds()
    {
        foreach (var target in FuzzTargets.All.Keys)
            Assert.True(Directory.Exists(Path.Combine(Fixtures, target)) && Directory.GetFiles(Path.Combine(Fixtures, target), "seed-*").Length > 0, $"no seeds for {target}");
    }
}
