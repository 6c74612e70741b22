using System.Text.RegularExpressions;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

public sealed class CodeRemnantsOptions : ThresholdOptions { public CodeRemnantsOptions() => Threshold = 0.2; }

/// <summary>
/// C4 drops any page with a curly brace; that also drops prose about maths or JSON examples. This rule drops a prose
/// document only when more than <c>threshold</c> of its lines look like program text — ending in <c>{ } ;</c> or holding
/// <c>function(</c>, <c>var x =</c>, <c>=&gt;</c>, <c>&lt;script</c> (<c>code_remnants</c>). Documents already formatted as code
/// (a Markdown fence, see format-code) are left alone.
/// </summary>
public sealed partial class CodeRemnantsRule(CodeRemnantsOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        if (d.Text.TrimStart().StartsWith("```", StringComparison.Ordinal)) return FilterDecision.Keep();
        var lines = TextMetrics.Lines(d.Text);
        if (lines.Count == 0) return FilterDecision.Keep();
        double share = (double)lines.Count(IsCode) / lines.Count;
        return share > o.Threshold ? FilterDecision.Drop("code_remnants") : FilterDecision.Keep();
    }

    static bool IsCode(string line) => line[^1] is '{' or '}' or ';' || line == "}" || CodeToken().IsMatch(line);

    [GeneratedRegex(@"\bfunction\s*\(|\b(var|let|const)\s+\w+\s*=|=>|</?script|\bdocument\.\w+|\bwindow\.\w+|\$\(|\bimport\s+[\w.]+;")]
    private static partial Regex CodeToken();
}
