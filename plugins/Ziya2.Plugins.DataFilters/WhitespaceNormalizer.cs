using System.Text;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters;

/// <summary>
/// Normalises whitespace without changing content: horizontal runs become one space, lines are trimmed,
/// consecutive blank lines collapse to one (paragraph boundaries survive), CRLF becomes LF.
/// Keeps the document untouched when nothing changes, so the common case allocates no new document.
/// </summary>
public sealed class WhitespaceNormalizer : IDataFilter
{
    public FilterDecision Apply(Document document)
    {
        if (IsNormalized(document.Text)) return FilterDecision.Keep();   // most pages: one scan, nothing built
        var normalized = Normalize(document.Text);
        return normalized == document.Text ? FilterDecision.Keep() : FilterDecision.Rewrite(document with { Text = normalized });
    }

    /// <summary>
    /// Whether <see cref="Normalize"/> would return <paramref name="text"/> unchanged: no CR, no blank line at either end
    /// or two in a row, and no whitespace but single spaces inside lines.
    /// </summary>
    internal static bool IsNormalized(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return true;
        if (text[0] == '\n' || text[^1] == '\n') return false;
        char previous = '\n';
        int newlines = 0;
        foreach (var c in text)
        {
            if (c == '\n')
            {
                if (previous == ' ' || ++newlines > 2) return false;
                previous = c;
                continue;
            }
            newlines = 0;
            if (char.IsWhiteSpace(c) && (c != ' ' || previous is '\n' or ' ')) return false;
            previous = c;
        }
        return previous != ' ';
    }

    internal static string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        int blankRun = 0;
        foreach (var rawLine in text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n'))
        {
            var line = CollapseSpaces(rawLine.Trim());
            if (line.Length == 0) { blankRun++; continue; }
            if (sb.Length > 0) sb.Append(blankRun > 0 ? "\n\n" : "\n");
            sb.Append(line);
            blankRun = 0;
        }
        return sb.ToString();
    }

    static string CollapseSpaces(string line)
    {
        var sb = new StringBuilder(line.Length);
        bool inSpace = false;
        foreach (var c in line)
        {
            bool space = c is ' ' or '\t' or '\u00a0' or '\u3000' || (char.IsWhiteSpace(c) && c != '\n');
            if (space) { if (!inSpace) sb.Append(' '); inSpace = true; }
            else { sb.Append(c); inSpace = false; }
        }
        return sb.ToString();
    }
}
