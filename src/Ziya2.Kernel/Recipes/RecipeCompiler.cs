using System.Collections.Immutable;
using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Scripting;
using Ziya2.Recipes;

namespace Ziya2.Kernel.Recipes;

/// <summary>A recipe compiled to IL (fresh or from the on-disk cache), with its static manifest.</summary>
public sealed record CompiledRecipe(RecipeSources Sources, string Hash, byte[] Assembly, byte[] Pdb, RecipeManifest Manifest,
    IReadOnlyList<RecipeDiagnostic> Warnings, bool FromCache, TimeSpan CompileTime);

/// <summary>
/// Compiles <c>.csx</c> recipes with Roslyn scripting against <see cref="TrainingRecipeGlobals"/> and caches the emitted
/// assembly under a hash of all sources, references, compiler and SDK version. A cache hit skips semantic
/// analysis and emit entirely; the assembly is loaded into a collectible context, because Roslyn's own
/// <c>RunAsync</c> leaks one assembly per evaluation (roslyn #41722).
/// </summary>
/// <param name="cacheDirectory">Where compiled recipes are kept.</param>
/// <param name="engines">Engine libraries the host offers recipes (the data factory, the trainer): referenced by every
/// recipe, so a recipe may <c>using</c> their namespaces. The kernel knows nothing about them.</param>
public sealed class RecipeCompiler(string cacheDirectory, IReadOnlyList<Assembly>? engines = null)
{
    static readonly string[] DefaultImports =
    [
        "System", "System.IO", "System.Linq", "System.Collections.Generic", "System.Threading", "System.Threading.Tasks",
        "Microsoft.Extensions.Logging", "TorchSharp",
        "Ziya2", "Ziya2.Configuration", "Ziya2.Data", "Ziya2.Events", "Ziya2.Models", "Ziya2.Optimization", "Ziya2.Recipes", "Ziya2.Tokenization",
    ];

    public string CacheDirectory { get; } = cacheDirectory;

    /// <summary>Default cache: <c>$ZIYA2_CACHE_DIR</c>, else <c>$XDG_CACHE_HOME/ziya2</c>, else <c>~/.cache/ziya2</c>; recipes under <c>recipes/</c>.</summary>
    public static string DefaultCacheDirectory()
    {
        var root = Environment.GetEnvironmentVariable("ZIYA2_CACHE_DIR")
            ?? Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "ziya2");
        return Path.Combine(root, "recipes");
    }

    IReadOnlyList<Assembly> ReferenceAssemblies() => [.. SdkAssemblies(), .. engines ?? []];

    static IReadOnlyList<Assembly> SdkAssemblies() =>
    [
        typeof(object).Assembly, typeof(Enumerable).Assembly, typeof(List<>).Assembly, typeof(Console).Assembly,
        typeof(ImmutableArray).Assembly, typeof(JsonSerializer).Assembly, typeof(System.Runtime.GCSettings).Assembly,
        typeof(System.Text.RegularExpressions.Regex).Assembly,
        System.Reflection.Assembly.Load("System.Runtime"), System.Reflection.Assembly.Load("System.Collections"),
        System.Reflection.Assembly.Load("netstandard"), System.Reflection.Assembly.Load("System.Memory"),
        typeof(RecipeGlobals).Assembly, typeof(TrainingRecipeGlobals).Assembly, typeof(TorchSharp.torch).Assembly, typeof(Microsoft.Extensions.Logging.ILogger).Assembly,
    ];

    /// <summary>Identity of everything besides the sources that changes the compiled output.</summary>
    string Salt() =>
        $"sdk={Ziya2Sdk.Version};roslyn={typeof(CSharpScript).Assembly.GetName().Version};kernel={typeof(RecipeCompiler).Assembly.ManifestModule.ModuleVersionId};" +
        string.Join(";", ReferenceAssemblies().Distinct().Select(a => $"{a.GetName().Name}:{a.ManifestModule.ModuleVersionId}").Order(StringComparer.Ordinal));

    public CompiledRecipe Compile(string recipePath)
    {
        var clock = Stopwatch.StartNew();
        var sources = RecipeSources.Collect(recipePath);
        var hash = sources.Hash(Salt());
        var dir = Path.Combine(CacheDirectory, hash);
        if (TryReadCache(dir, out var pe, out var pdb, out var manifest))
            return new CompiledRecipe(sources, hash, pe, pdb, manifest, [], true, clock.Elapsed);

        var entry = sources.EntryPath;
        var options = ScriptOptions.Default
            .WithFilePath(entry)
            .WithFileEncoding(Encoding.UTF8)
            .WithSourceResolver(new SourceFileResolver(ImmutableArray<string>.Empty, Path.GetDirectoryName(entry)))
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithSearchPaths())
            .WithReferences(ReferenceAssemblies().Distinct().Select(a => MetadataReference.CreateFromFile(a.Location)))
            .WithImports(DefaultImports)
            .WithEmitDebugInformation(true)
            .WithOptimizationLevel(OptimizationLevel.Debug)
            .WithLanguageVersion(Microsoft.CodeAnalysis.CSharp.LanguageVersion.Latest);
        var script = CSharpScript.Create<object>(sources.Files[0].Text, options, typeof(TrainingRecipeGlobals));
        // Scripting exposes neither nullable context nor diagnostic options; set them on the compilation we emit.
        // CS1701/CS1702 (binding-redirect assumptions for TorchSharp's net8 references) are noise on .NET 10.
        var compilation = script.GetCompilation();
        compilation = compilation.WithOptions(((Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions)compilation.Options)
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { ["CS1701"] = ReportDiagnostic.Suppress, ["CS1702"] = ReportDiagnostic.Suppress }));

        // Emit binds every method body and reports every diagnostic (as csc does): a separate GetDiagnostics() first
        // would bind them all twice. The manifest's semantic walk runs on the other core meanwhile.
        var analysis = Task.Run(() => RecipeAnalyzer.Analyze(compilation));
        using var peStream = new MemoryStream();
        using var pdbStream = new MemoryStream();
        var result = compilation.Emit(peStream, pdbStream, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.PortablePdb));
        var all = result.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(RecipeDiagnostic.From).ToList();
        var errors = all.Where(d => d.Severity == "error").ToList();
        if (!result.Success)   // Success is "no error diagnostic": errors holds them
        {
            _ = analysis.ContinueWith(t => t.Exception, TaskScheduler.Default);   // a walk over broken code may throw: not this error's news
            throw new RecipeException(errors);
        }
        manifest = analysis.GetAwaiter().GetResult();
        pe = peStream.ToArray(); pdb = pdbStream.ToArray();
        WriteCache(dir, pe, pdb, manifest);
        return new CompiledRecipe(sources, hash, pe, pdb, manifest, all.Where(d => d.Severity != "error").ToList(), false, clock.Elapsed);
    }

    static bool TryReadCache(string dir, out byte[] pe, out byte[] pdb, out RecipeManifest manifest)
    {
        pe = pdb = []; manifest = null!;
        try
        {
            var manifestPath = Path.Combine(dir, "manifest.json");
            if (!File.Exists(manifestPath)) return false;
            manifest = JsonSerializer.Deserialize<RecipeManifest>(File.ReadAllText(manifestPath))!;
            pe = File.ReadAllBytes(Path.Combine(dir, "recipe.dll"));
            pdb = File.ReadAllBytes(Path.Combine(dir, "recipe.pdb"));
            return manifest is not null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return false; // a damaged cache entry is just a miss; it is rewritten below
        }
    }

    /// <summary>Writes into a temporary folder and renames it into place, so readers never see half an entry.</summary>
    static void WriteCache(string dir, byte[] pe, byte[] pdb, RecipeManifest manifest)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
            var tmp = dir + ".tmp-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8];
            Directory.CreateDirectory(tmp);
            File.WriteAllBytes(Path.Combine(tmp, "recipe.dll"), pe);
            File.WriteAllBytes(Path.Combine(tmp, "recipe.pdb"), pdb);
            File.WriteAllText(Path.Combine(tmp, "manifest.json"), JsonSerializer.Serialize(manifest));
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            Directory.Move(tmp, dir);
        }
        catch (IOException) { /* another process won the race, or the cache is read-only: compiling again next time is fine */ }
        catch (UnauthorizedAccessException) { }
    }
}
