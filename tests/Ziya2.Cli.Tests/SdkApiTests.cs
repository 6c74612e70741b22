namespace Ziya2.Cli.Tests;

/// <summary>
/// The SDK's public surface is gated by its checked-in API files: a copy of the torch-free SDK with one public member
/// removed, or one added without being recorded, does not build, and the error names the member.
/// </summary>
public sealed class SdkApiTests : IDisposable
{
    readonly string _tmp = Directory.CreateTempSubdirectory("ziya2-api-").FullName;

    string CopySdk()
    {
        // The project with what it builds with: root props/targets (central package versions, warnings as errors).
        foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "nuget.config" })
            File.Copy(Path.Combine(CliRunner.RepoRoot, file), Path.Combine(_tmp, file));
        Directory.CreateDirectory(Path.Combine(_tmp, "build"));
        foreach (var file in Directory.GetFiles(Path.Combine(CliRunner.RepoRoot, "build")))
            File.Copy(file, Path.Combine(_tmp, "build", Path.GetFileName(file)));
        var source = Path.Combine(CliRunner.RepoRoot, "src", "Ziya2.Abstractions");
        var target = Path.Combine(_tmp, "src", "Ziya2.Abstractions");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")))
        {
            var to = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        return target;
    }

    (int Code, string Output) Build(string project)
    {
        var (code, stdout, stderr) = CliRunner.Program("dotnet", ["build", project, "-nologo", "-v", "q"], _tmp);
        return (code, stdout + stderr);
    }

    [Fact]
    public void Removing_or_adding_public_sdk_api_without_recording_it_fails_the_build()
    {
        var sdk = CopySdk();
        var events = Path.Combine(sdk, "Events", "RunEvent.cs");
        var original = File.ReadAllText(events);
        Assert.Equal(0, Build(sdk).Code);   // the copy as checked in builds

        // A breaking change: a public constant plugins may use disappears.
        File.WriteAllText(events, original.Replace("    public const string Checkpoint = \"checkpoint\";", ""));
        var (code, output) = Build(sdk);
        Assert.NotEqual(0, code);
        Assert.Contains("RS0017", output);
        Assert.Contains("Ziya2.Events.RunEvents.Checkpoint", output);

        // An addition nobody recorded.
        File.WriteAllText(events, original.Replace("    public const string Checkpoint = \"checkpoint\";", "    public const string Checkpoint = \"checkpoint\";\n    /// <summary>New.</summary>\n    public const string Extra = \"extra\";"));
        (code, output) = Build(sdk);
        Assert.NotEqual(0, code);
        Assert.Contains("RS0016", output);
        Assert.Contains("Extra", output);
    }

    public void Dispose() { try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { } }
}
