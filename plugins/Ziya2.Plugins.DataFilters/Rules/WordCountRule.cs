using Ziya2.Configuration;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Options of <see cref="WordCountRule"/> (Gopher: 50 to 100,000 words).</summary>
public sealed class WordCountOptions : IValidatableOptions
{
    public int MinWords { get; set; } = 50;
    public int MaxWords { get; set; } = 100_000;

    public IEnumerable<string> Validate() { if (MinWords < 0 || MaxWords < MinWords) yield return "need 0 <= min_words <= max_words"; }
}

/// <summary>
/// Gopher's document length in words (<c>too_few_words</c>, <c>too_many_words</c>). Chinese has no spaces, so each
/// CJK ideograph counts as one word and the Latin words between them are counted as usual.
/// </summary>
public sealed class WordCountRule(WordCountOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        long words = Count(d.Text);
        if (words < o.MinWords) return FilterDecision.Drop("too_few_words");
        return words > o.MaxWords ? FilterDecision.Drop("too_many_words") : FilterDecision.Keep();
    }

    /// <summary>Words as this rule counts them: Latin words, plus one per CJK ideograph.</summary>
    public static long Count(string text)
    {
        long words = 0;
        bool inWord = false;
        foreach (var r in text.EnumerateRunes())
        {
            if (TextMetrics.IsCjk(r.Value)) { words++; inWord = false; }
            else if (System.Text.Rune.IsLetterOrDigit(r)) { if (!inWord) words++; inWord = true; }
            else if (r.Value is not ('\'' or '-' or '_')) inWord = false;   // "don't", "e-mail" stay one word
        }
        return words;
    }
}
