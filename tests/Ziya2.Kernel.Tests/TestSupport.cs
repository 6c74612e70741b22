using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ziya2.Kernel.Tests;

static class Repo
{
    public static string Root { get; } = typeof(Repo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;
}

public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("ziya2-test-").FullName;
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);
    public string Write(string relative, string text)
    {
        var full = Combine(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
        return full;
    }
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}

/// <summary>Compiles small plugin assemblies with Roslyn into <c>root/Name/Name.dll</c>, as a build would lay them out.</summary>
static class PluginBuilder
{
    static readonly MetadataReference[] References =
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(System.IO.Path.PathSeparator)
        .Where(p => System.IO.Path.GetFileName(p) is var f && (f.StartsWith("System.", StringComparison.Ordinal) || f is "netstandard.dll" or "mscorlib.dll"
            || f.StartsWith("Ziya2.Abstractions", StringComparison.Ordinal) || f.StartsWith("TorchSharp", StringComparison.Ordinal) || f.StartsWith("Microsoft.Extensions.Logging.Abstractions", StringComparison.Ordinal)))
        .Select(p => MetadataReference.CreateFromFile(p)).ToArray();

    public static string Build(string root, string name, string source)
    {
        var dir = System.IO.Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        var compilation = CSharpCompilation.Create(name, [CSharpSyntaxTree.ParseText(source)], References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var path = System.IO.Path.Combine(dir, name + ".dll");
        var result = compilation.Emit(path);
        if (!result.Success) throw new InvalidOperationException(string.Join("\n", result.Diagnostics));
        return path;
    }

    /// <summary>A plugin with one data filter named <paramref name="filterName"/>.</summary>
    public static string FilterPlugin(string root, string name, string filterName, string sdkVersion = "Ziya2.Ziya2Sdk.Version", string register = "") =>
        Build(root, name, $$"""
            using Ziya2; using Ziya2.Data; using Ziya2.Plugins;
            [assembly: Ziya2Plugin({{sdkVersion}})]
            namespace {{name}};
            public sealed class Opts { public int Min { get; set; } = 1; }
            public sealed class F(Opts o) : IDataFilter
            {
                public FilterDecision Apply(Document d) => d.Text.Length < o.Min ? FilterDecision.Drop("short") : FilterDecision.Keep();
            }
            public sealed class P : IZiya2Plugin
            {
                public void Register(IPluginRegistrar r) { {{register}} r.AddDataFilter<F, Opts>("{{filterName}}", "test filter"); }
            }
            """);
}
