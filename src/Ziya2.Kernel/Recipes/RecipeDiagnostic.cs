using Microsoft.CodeAnalysis;

namespace Ziya2.Kernel.Recipes;

/// <summary>A problem in a recipe, located as <c>file:line:col</c> (1-based) in the file that has it.</summary>
public sealed record RecipeDiagnostic(string File, int Line, int Column, string Severity, string Id, string Message)
{
    public override string ToString() => $"{DisplayPath(File)}:{Line}:{Column}: {Severity} {Id}: {Message}";

    /// <summary>
    /// Formats from the mapped span ourselves: Roslyn's own formatter prints <c>file(line,col)</c>, which editors and
    /// CI log parsers do not link as reliably as <c>file:line:col</c>.
    /// </summary>
    public static RecipeDiagnostic From(Diagnostic d)
    {
        var span = d.Location.GetMappedLineSpan();
        var severity = d.Severity == DiagnosticSeverity.Error ? "error" : d.Severity == DiagnosticSeverity.Warning ? "warning" : "info";
        return new RecipeDiagnostic(span.Path ?? "", span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1, severity, d.Id, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    public static RecipeDiagnostic Error(Location location, string id, string message)
    {
        var span = location.GetMappedLineSpan();
        return new RecipeDiagnostic(span.Path ?? "", span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1, "error", id, message);
    }

    /// <summary><c>file:line:col</c> of <paramref name="location"/>, the file as stored (absolute).</summary>
    public static string Where(Location location)
    {
        var span = location.GetMappedLineSpan();
        return $"{span.Path}:{span.StartLinePosition.Line + 1}:{span.StartLinePosition.Character + 1}";
    }

    /// <summary>Relative to the working directory when below it, as compilers print paths.</summary>
    public static string DisplayPath(string path)
    {
        if (path.Length == 0) return "<recipe>";
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
    }
}

/// <summary>The recipe did not compile or does not fit the loaded plugins/config; carries every diagnostic.</summary>
public sealed class RecipeException(IReadOnlyList<RecipeDiagnostic> diagnostics)
    : Exception(string.Join("\n", diagnostics))
{
    public IReadOnlyList<RecipeDiagnostic> Diagnostics { get; } = diagnostics;
}
