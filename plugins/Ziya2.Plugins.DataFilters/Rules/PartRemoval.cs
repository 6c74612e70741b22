using System.Text;
using System.Text.RegularExpressions;
using Ziya2.Configuration;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>The unit a part-removing rule works on.</summary>
public enum TextUnit
{
    /// <summary>Lines.</summary>
    Line,
    /// <summary>Blocks separated by blank lines.</summary>
    Paragraph,
    /// <summary>Sentences (split after 。！？；!?; and after . followed by a space).</summary>
    Sentence,
}

/// <summary>Options shared by rules that remove parts of a document.</summary>
public class PartRemovalOptions : IValidatableOptions
{
    /// <summary>The unit removed.</summary>
    public TextUnit Unit { get; set; } = TextUnit.Paragraph;
    /// <summary>Drop the whole document when less than this share of its characters would remain.</summary>
    public double MinRemaining { get; set; } = 0.5;

    public virtual IEnumerable<string> Validate()
    {
        if (MinRemaining is < 0 or > 1) yield return "min_remaining must be within [0, 1]";
    }
}

/// <summary>
/// Removes the lines, paragraphs or sentences a predicate marks, keeping the document's layout; drops the document
/// (with <c>reason</c>) when too little remains (paper §2.1: rules work coarse to fine, document → paragraph → sentence).
/// </summary>
static partial class PartRemoval
{
    public static FilterDecision Apply(Document d, PartRemovalOptions o, string reason, Func<string, bool> remove)
    {
        int removedChars = 0, removedParts = 0;
        string result;
        if (o.Unit == TextUnit.Sentence)
            result = string.Join("\n\n", d.Text.Split("\n\n").Select(p => string.Concat(Sentences(p).Where(s => Keep(s)))).Where(p => p.Trim().Length > 0));
        else
        {
            // Lines and paragraphs: the kept parts are gathered only once one is removed, so a document the rule leaves
            // alone (most documents, for most rules) is not copied into a new string only to be thrown away.
            var parts = o.Unit == TextUnit.Line ? d.Text.Split('\n') : d.Text.Split("\n\n");
            List<string>? kept = null;
            for (int i = 0; i < parts.Length; i++)
            {
                if (Keep(parts[i])) kept?.Add(parts[i]);
                else if (kept is null) { kept = new List<string>(parts.Length); kept.AddRange(parts.AsSpan(0, i)); }
            }
            if (kept is null) return FilterDecision.Keep();
            result = string.Join(o.Unit == TextUnit.Line ? "\n" : "\n\n", kept);
        }
        if (removedParts == 0) return FilterDecision.Keep();
        int before = d.Text.Trim().Length, after = result.Trim().Length;
        if (before == 0 || (double)after / before < o.MinRemaining) return FilterDecision.Drop(reason);
        return FilterDecision.Rewrite((d with { Text = result.Trim() }).WithAttribute($"{reason}_removed", removedParts));

        bool Keep(string part)
        {
            if (part.Trim().Length == 0 || !remove(part)) return true;
            removedChars += part.Length; removedParts++;
            return false;
        }
    }

    /// <summary>Sentences with their trailing punctuation and spaces, so concatenating them restores the text.</summary>
    internal static IEnumerable<string> Sentences(string paragraph)
    {
        int start = 0;
        foreach (Match m in SentenceEnd().Matches(paragraph))
        {
            int end = m.Index + m.Length;
            yield return paragraph[start..end];
            start = end;
        }
        if (start < paragraph.Length) yield return paragraph[start..];
    }

    [GeneratedRegex(@"[。！？；!?;]+[”’」』）)]*\s*|\.+[”’""')]*\s+")] private static partial Regex SentenceEnd();
}
