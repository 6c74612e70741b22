using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Ziya2.Evaluation;

/// <summary>Answer extraction and normalisation for GSM8K and MATH.</summary>
public static partial class MathAnswers
{
    /// <summary>GSM8K's reference: the number after <c>####</c>.</summary>
    public static string Gsm8kReference(string answer)
    {
        int at = answer.LastIndexOf("####", StringComparison.Ordinal);
        if (at < 0) throw new InvalidDataException($"GSM8K answer without '####': {answer[..Math.Min(60, answer.Length)]}");
        return NormalizeNumber(answer[(at + 4)..]) ?? throw new InvalidDataException($"GSM8K answer '{answer[(at + 4)..].Trim()}' is not a number");
    }

    /// <summary>
    /// The number a GSM8K generation gives: after "The answer is" when present (our few-shot format), else the last number
    /// in the text; commas, currency and a trailing period removed. Null when there is none.
    /// </summary>
    public static string? Gsm8kPrediction(string text)
    {
        var marked = AnswerIs().Matches(text);
        if (marked.Count > 0 && NormalizeNumber(marked[^1].Groups[1].Value) is { } n) return n;
        var numbers = Number().Matches(text);
        return numbers.Count > 0 ? NormalizeNumber(numbers[^1].Value) : null;
    }

    /// <summary>"1,234.50" → "1234.5"; "$7" → "7"; "-3." → "-3". Null when not a number.</summary>
    public static string? NormalizeNumber(string text)
    {
        var t = text.Trim().Replace(",", "").Replace("$", "").TrimEnd('.');
        var m = Number().Match(t);
        if (!m.Success) return null;
        return decimal.TryParse(m.Value.Replace(",", ""), NumberStyles.Number, CultureInfo.InvariantCulture, out var d)
            ? d.ToString("0.############################", CultureInfo.InvariantCulture) : null;
    }

    /// <summary>The content of the last <c>\boxed{…}</c> (or <c>\fbox{…}</c>), braces balanced; null when there is none.</summary>
    public static string? LastBoxed(string text)
    {
        int at = Math.Max(text.LastIndexOf("\\boxed", StringComparison.Ordinal), text.LastIndexOf("\\fbox", StringComparison.Ordinal));
        if (at < 0) return null;
        int open = text.IndexOf('{', at);
        if (open < 0) return null;
        int depth = 0;
        for (int i = open; i < text.Length; i++)
        {
            if (text[i] == '{') depth++;
            else if (text[i] == '}' && --depth == 0) return text[(open + 1)..i];
        }
        return null;
    }

    /// <summary>A MATH generation's answer: the last \boxed{}, else what follows "The answer is" / "final answer is".</summary>
    public static string? MathPrediction(string text)
    {
        if (LastBoxed(text) is { } boxed) return boxed;
        var m = FinalAnswer().Matches(text);
        return m.Count > 0 ? m[^1].Groups[1].Value.Trim().TrimEnd('.').Trim('$') : null;
    }

    /// <summary>
    /// Hendrycks et al.'s MATH normalisation (their <c>strip_string</c>), so equivalent spellings compare equal: no spaces,
    /// \left/\right, \!, units of degrees, dollars and percent signs; dfrac/tfrac → frac; <c>\frac12</c> → <c>\frac{1}{2}</c>;
    /// <c>a/b</c> of integers → <c>\frac{a}{b}</c>; a leading "x =" dropped; ".5" → "0.5"; "2.0" → "2".
    /// </summary>
    public static string NormalizeMath(string answer)
    {
        var original = answer.Trim();
        var s = answer.Replace("\n", "").Replace("\\!", "").Replace("\\\\", "\\")
            .Replace("tfrac", "frac").Replace("dfrac", "frac").Replace("\\left", "").Replace("\\right", "")
            .Replace("^{\\circ}", "").Replace("^\\circ", "").Replace("\\$", "").Replace("$", "").Replace("\\%", "").Replace("%", "");
        s = TextUnits().Replace(s, "");
        s = s.Replace(" .", " 0.").Replace("{.", "{0.");
        if (s.StartsWith('.')) s = "0" + s;
        var eq = s.Split('=');
        if (eq.Length == 2 && eq[0].Trim().Length <= 2) s = eq[1];
        s = s.Replace(" ", "");
        s = FixFracs(s);
        if (s == "0.5") s = "\\frac{1}{2}";
        if (SimpleRatio().Match(s) is { Success: true } r) s = $"\\frac{{{r.Groups[1].Value}}}{{{r.Groups[2].Value}}}";
        if (TrailingZeros().Match(s) is { Success: true } z) s = z.Groups[1].Value;
        return s.Length > 0 ? s : original.Replace(" ", "");   // never normalise an answer away: "" would equal every other ""
    }

    /// <summary>Whether two MATH answers are equivalent after <see cref="NormalizeMath"/> (an empty answer never is).</summary>
    public static bool MathEquivalent(string? predicted, string reference) =>
        predicted is not null && NormalizeMath(predicted) is { Length: > 0 } p && p == NormalizeMath(reference);

    static string FixFracs(string s)
    {
        var parts = s.Split("\\frac");
        if (parts.Length == 1) return s;
        var sb = new StringBuilder(parts[0]);
        foreach (var part in parts.Skip(1))
        {
            sb.Append("\\frac");
            if (part.Length > 0 && part[0] == '{') { sb.Append(part); continue; }
            if (part.Length < 2) return s;   // malformed: leave as is
            char a = part[0], b = part[1];
            sb.Append('{').Append(a).Append('}');
            if (b == '{') sb.Append(part[1..]);
            else sb.Append('{').Append(b).Append('}').Append(part[2..]);
        }
        return sb.ToString();
    }

    [GeneratedRegex(@"[Tt]he answer is:?\s*\$?(-?[\d,]*\.?\d+)")] private static partial Regex AnswerIs();
    [GeneratedRegex(@"-?\d[\d,]*\.?\d*|-?\.\d+")] private static partial Regex Number();
    [GeneratedRegex(@"(?:[Ff]inal answer is|[Tt]he answer is):?\s*(.+?)(?:\n|$)")] private static partial Regex FinalAnswer();
    // A unit after a value ("5\text{ cm}"); a \text{} that is the whole answer ("\text{odd}") is the answer.
    [GeneratedRegex(@"(?<=\S)\s*\\text\{\s*[a-zA-Z ]+\}$")] private static partial Regex TextUnits();
    [GeneratedRegex(@"^(-?\d+)/(\d+)$")] private static partial Regex SimpleRatio();
    [GeneratedRegex(@"^(-?\d+)\.0+$")] private static partial Regex TrailingZeros();
}
