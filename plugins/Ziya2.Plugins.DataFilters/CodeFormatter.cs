using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters;

/// <summary>Options of <see cref="CodeFormatter"/>.</summary>
public sealed class CodeFormatterOptions
{
    /// <summary>Document languages (the <c>language</c> field) treated as code; the tag written is the lower-cased name.</summary>
    public List<string> Languages { get; set; } =
        ["python", "c", "c++", "cpp", "java", "javascript", "typescript", "go", "rust", "sql", "shell", "bash", "c#", "csharp", "php", "ruby", "kotlin", "swift", "scala", "r", "matlab", "lua", "perl", "haskell", "html", "css", "markdown", "json", "yaml"];
}

/// <summary>
/// Code as Ziya2 formats it (paper Appendix A): the language tag after an opening Markdown fence —
/// <c>```python\n{code}\n```</c> — so the model learns to produce fenced, tagged code. Documents whose language is not
/// a code language, or that are already fenced, pass unchanged.
/// </summary>
public sealed class CodeFormatter(CodeFormatterOptions options) : IDataFilter
{
    readonly HashSet<string> _languages = options.Languages.Select(l => l.ToLowerInvariant()).ToHashSet();

    public FilterDecision Apply(Document d)
    {
        if (d.Language is not { } language || !_languages.Contains(language.ToLowerInvariant())) return FilterDecision.Keep();
        var code = d.Text.Trim('\n');
        if (code.StartsWith("```", StringComparison.Ordinal)) return FilterDecision.Keep();
        return FilterDecision.Rewrite(d with { Text = $"```{language.ToLowerInvariant()}\n{code}\n```" });
    }
}
