using System.Security.Cryptography;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ziya2.Kernel.Recipes;

/// <summary>
/// A recipe and every file it <c>#load</c>s, transitively, in first-seen order. Collected by parsing only, so the
/// cache key can be computed without compiling.
/// </summary>
public sealed class RecipeSources
{
    RecipeSources(string entry, IReadOnlyList<(string Path, string Text)> files) { EntryPath = entry; Files = files; }

    public string EntryPath { get; }
    public IReadOnlyList<(string Path, string Text)> Files { get; }

    internal static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, kind: SourceCodeKind.Script);

    public static RecipeSources Collect(string entryPath)
    {
        var entry = Path.GetFullPath(entryPath);
        if (!File.Exists(entry))
            throw new RecipeException([new RecipeDiagnostic(entry, 1, 1, "error", "ZY0001", "recipe file not found")]);
        var files = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var errors = new List<RecipeDiagnostic>();
        Visit(entry, files, seen, errors);
        if (errors.Count > 0) throw new RecipeException(errors);
        return new RecipeSources(entry, files);
    }

    static void Visit(string path, List<(string, string)> files, HashSet<string> seen, List<RecipeDiagnostic> errors)
    {
        if (!seen.Add(path)) return;
        var text = File.ReadAllText(path);
        files.Add((path, text));
        var root = (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(text, ParseOptions, path).GetRoot();
        foreach (var r in root.GetReferenceDirectives())
            errors.Add(RecipeDiagnostic.Error(r.GetLocation(), "ZY0002", "#r is not supported in recipes: package code as a plugin (see docs/plugins.md)"));
        foreach (var load in root.GetLoadDirectives())
        {
            var target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, load.File.ValueText));
            if (!File.Exists(target))
                errors.Add(RecipeDiagnostic.Error(load.File.GetLocation(), "CS1504", $"source file '{load.File.ValueText}' could not be found ({target})"));
            else Visit(target, files, seen, errors);
        }
    }

    /// <summary>SHA-256 over every file's path and content plus <paramref name="salt"/> (SDK, compiler and reference identities).</summary>
    public string Hash(string salt)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(salt));
        foreach (var (p, t) in Files)
        {
            sha.AppendData(Encoding.UTF8.GetBytes($"\0{p}\0{t.Length}\0"));
            sha.AppendData(Encoding.UTF8.GetBytes(t));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
