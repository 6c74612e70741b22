using System.Collections.Frozen;
using System.Text;

namespace Ziya2.Plugins.DataFilters;

/// <summary>
/// Decisions the language step takes before Lingua scores n-grams (scoring is almost all of its time). Each rule only
/// answers when the evidence is overwhelming and leaves everything else to Lingua; <c>bench/factory.sh</c> measures how
/// often the answer differs from Lingua's.
/// </summary>
static class LanguageRules
{
    /// <summary>
    /// Lingua's own script rule: text whose letters are mostly Han ideographs, with no kana or hangul, is Chinese.
    /// </summary>
    public static bool IsHanWithoutKanaOrHangul(string text)
    {
        int han = 0, letters = 0;
        foreach (var r in text.EnumerateRunes())
        {
            int v = r.Value;
            if (v is >= 0x3040 and <= 0x30FF or >= 0xAC00 and <= 0xD7AF or >= 0x1100 and <= 0x11FF) return false;   // kana, hangul
            if (Rules.TextMetrics.IsCjk(v)) { han++; letters++; }
            else if (Rune.IsLetter(r)) letters++;
        }
        return han > 0 && han * 2 > letters;
    }

    // Frequent words of English that are not words of the other Latin-script candidates, and theirs (French, German,
    // Spanish, Italian, Portuguese, Dutch): a page of English prose has one in three words from the first list.
    static readonly FrozenSet<string> English = FrozenSet.Create(StringComparer.Ordinal,
        "the", "and", "of", "to", "is", "that", "for", "with", "this", "are", "be", "by", "or", "from", "which", "it", "not",
        "you", "can", "if", "when", "will", "have", "has", "its", "their", "they", "there", "these", "those", "been", "would",
        "should", "other", "than", "then", "into", "only", "also", "such", "any", "each", "all", "more", "may", "must", "used",
        "use", "file", "files", "option", "default", "specified", "using", "one", "two", "what", "how", "were", "was", "but");
    static readonly FrozenSet<string> Other = FrozenSet.Create(StringComparer.Ordinal,
        "le", "les", "des", "est", "et", "une", "du", "pour", "dans", "qui", "sur", "pas", "au", "avec", "sont", "ce", "cette",
        "der", "die", "und", "ist", "nicht", "mit", "den", "das", "ein", "eine", "sich", "auf", "für", "von", "zu", "wird",
        "werden", "oder", "dem", "des", "el", "los", "las", "del", "y", "es", "por", "con", "una", "para", "como", "se", "que",
        "al", "más", "il", "di", "che", "della", "non", "sono", "da", "em", "uma", "não", "het", "een", "van", "niet", "zijn");

    /// <summary>
    /// English by its function words: at least 8 of them, at least one word in eight, eight times as many as the
    /// other Latin-script languages' function words, and no letter outside ASCII (accents are what tell French, German
    /// or Spanish apart). Anything less certain returns false and goes to Lingua.
    /// </summary>
    public static bool IsPlainEnglish(ReadOnlySpan<char> text)
    {
        int words = 0, english = 0, other = 0;
        Span<char> lower = stackalloc char[32];
        var englishLookup = English.GetAlternateLookup<ReadOnlySpan<char>>();
        var otherLookup = Other.GetAlternateLookup<ReadOnlySpan<char>>();
        for (int i = 0; i < text.Length;)
        {
            char c = text[i];
            if (c > 0x7F && char.IsLetter(c)) return false;   // an accented or non-Latin letter: not for this rule
            if (!char.IsAsciiLetter(c)) { i++; continue; }
            int start = i;
            while (i < text.Length && char.IsAsciiLetter(text[i])) i++;
            if (i < text.Length && text[i] > 0x7F && char.IsLetter(text[i])) return false;
            words++;
            int length = i - start;
            if (length > lower.Length) continue;
            var word = lower[..length];
            text.Slice(start, length).ToLowerInvariant(word);
            if (englishLookup.Contains(word)) english++;
            else if (otherLookup.Contains(word)) other++;
        }
        return english >= 8 && english * 8 >= words && other * 8 <= english;
    }
}
