using Ziya2.Configuration;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules.Code;

/// <summary>Options of <see cref="CommentOnlyCodeRule"/>.</summary>
public sealed class CommentOnlyCodeOptions : IValidatableOptions
{
    /// <summary>Fewest lines of code (non-empty, not comments) a file must have.</summary>
    public int MinCodeLines { get; set; } = 3;

    /// <summary>Line starts that mark a comment in the common languages.</summary>
    public List<string> CommentPrefixes { get; set; } = ["//", "#", "/*", "*", "*/", "--", ";", "%", "'''", "\"\"\"", "<!--", "rem "];

    public IEnumerable<string> Validate()
    {
        if (MinCodeLines < 1) yield return "min_code_lines must be >= 1";
    }
}

/// <summary>
/// Drops files that are a licence header or comments with next to no code (<c>comment_only</c>): licence files with a
/// source extension, stubs, emptied files. What is left after a licence header is what the model should learn from.
/// </summary>
public sealed class CommentOnlyCodeRule(CommentOnlyCodeOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        int code = 0;
        foreach (var raw in d.Text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith("```", StringComparison.Ordinal) || o.CommentPrefixes.Any(p => line.StartsWith(p, StringComparison.OrdinalIgnoreCase))) continue;
            if (++code >= o.MinCodeLines) return FilterDecision.Keep();
        }
        return FilterDecision.Drop("comment_only");
    }
}
