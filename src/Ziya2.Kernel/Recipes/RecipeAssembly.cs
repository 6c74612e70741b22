using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
using Ziya2.Recipes;

namespace Ziya2.Kernel.Recipes;

/// <summary>
/// A compiled recipe loaded into its own collectible context. Framework assemblies (SDK, TorchSharp…) resolve
/// from the default context, so recipe and host share types.
/// </summary>
public sealed class RecipeAssembly : IDisposable
{
    readonly AssemblyLoadContext _context;

    public RecipeAssembly(CompiledRecipe recipe)
    {
        Recipe = recipe;
        _context = new AssemblyLoadContext("recipe:" + recipe.Hash[..12], isCollectible: true);
        Assembly = _context.LoadFromStream(new MemoryStream(recipe.Assembly), new MemoryStream(recipe.Pdb));
    }

    public CompiledRecipe Recipe { get; }
    public Assembly Assembly { get; }

    /// <summary>Resolves a type named by the manifest (declared in the recipe, or in a shared assembly).</summary>
    public Type? FindType(ConfigBinding binding) =>
        binding.AssemblyName is null ? Assembly.GetType(binding.TypeName)
        : Type.GetType($"{binding.TypeName}, {binding.AssemblyName}");

    /// <summary>Runs the recipe's top-level code with <paramref name="globals"/>.</summary>
    public async Task<object?> RunAsync(TrainingRecipeGlobals globals)
    {
        // Roslyn's script entry point: static Task<object> Submission#0.<Factory>(object[] submissionArray),
        // slot 0 holding the globals object.
        var submission = Assembly.GetType("Submission#0") ?? throw new InvalidOperationException("compiled recipe has no Submission#0");
        var factory = submission.GetMethod("<Factory>", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new InvalidOperationException("compiled recipe has no <Factory>");
        var run = (Func<object?[], Task<object>>)factory.CreateDelegate(typeof(Func<object?[], Task<object>>));
        return await run([globals, null]).ConfigureAwait(false);
    }

    /// <summary>The innermost recipe source line in <paramref name="e"/>'s stack (or its inner exceptions).</summary>
    public string? LocateInRecipe(Exception e)
    {
        var files = Recipe.Sources.Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        for (var x = e; x is not null; x = x.InnerException)
        {
            foreach (var frame in new StackTrace(x, fNeedFileInfo: true).GetFrames())
            {
                var file = frame.GetFileName();
                if (file is not null && files.Contains(file) && frame.GetFileLineNumber() > 0)
                    return $"{RecipeDiagnostic.DisplayPath(file)}:{frame.GetFileLineNumber()}:{Math.Max(1, frame.GetFileColumnNumber())}";
            }
        }
        return null;
    }

    public void Dispose() => _context.Unload();
}
