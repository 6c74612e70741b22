using System.Diagnostics;
using System.Reflection;

namespace Ziya2.Cli.Tests;

/// <summary>Runs the built <c>ziya2</c> as a user would: its own process, headless (<c>CI=true</c>), no stdin.</summary>
static class CliRunner
{
    static string Meta(string key) => typeof(CliRunner).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public static string RepoRoot { get; } = Meta("RepoRoot");

    /// <summary>The build configuration the tests were built in (Debug, Release).</summary>
    public static string Configuration => Meta("Configuration");

    /// <summary>The built CLI assembly (run with <c>dotnet</c>).</summary>
    public static string CliAssembly => Meta("CliAssembly");

    /// <summary>Runs a bash script in the repository root, headless.</summary>
    public static (int Code, string Out, string Err) Shell(string script) => Execute("bash", ["-c", script], null);

    /// <summary>Runs a program in <paramref name="directory"/>, headless, with extra environment variables.</summary>
    public static (int Code, string Out, string Err) Program(string file, string[] args, string directory, IReadOnlyDictionary<string, string>? environment = null) =>
        Execute(file, args, null, directory, environment);

    public static (int Code, string Out, string Err) Run(string[] args, string? cacheDirectory = null) =>
        Execute("dotnet", [CliAssembly, .. args], cacheDirectory);

    static (int Code, string Out, string Err) Execute(string file, string[] args, string? cacheDirectory, string? directory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = directory ?? RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
        };
        psi.Environment["CI"] = "true";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        if (cacheDirectory is not null) psi.Environment["ZIYA2_CACHE_DIR"] = cacheDirectory;
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }
}
