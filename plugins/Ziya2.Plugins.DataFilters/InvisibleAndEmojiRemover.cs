using System.Globalization;
using System.Text;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters;

/// <summary>Options of <see cref="InvisibleAndEmojiRemover"/>.</summary>
public sealed class InvisibleAndEmojiRemoverOptions
{
    /// <summary>Also remove emoji and emoticon pictographs (Ziya2 removes "emoticons").</summary>
    public bool Emoji { get; set; } = true;
    /// <summary>Also remove private-use characters (icon fonts, mojibake placeholders).</summary>
    public bool PrivateUse { get; set; } = true;
}

/// <summary>
/// Removes what carries no text (paper §2.1 DP, "meaningless tokens"). Removed: control characters except tab and
/// newline (Unicode Cc); format characters (Cf: zero-width space/joiners, BOM, soft hyphen, bidi controls);
/// unpaired surrogates and noncharacters; private use (Co) when enabled; and, when enabled, emoji — the pictograph
/// blocks U+1F000–1FAFF, U+2600–27BF, U+2B00–2BFF arrows/stars used as emoji, regional indicators, skin-tone modifiers,
/// variation selector-16 and keycap. Kept: letters and digits of every script, CJK punctuation, math (Sm) and
/// currency (Sc) symbols, box drawing, and all whitespace, so code and formulas stay intact.
/// </summary>
public sealed class InvisibleAndEmojiRemover(InvisibleAndEmojiRemoverOptions options) : IDataFilter
{
    public FilterDecision Apply(Document document)
    {
        var text = Clean(document.Text, out int removed);
        return removed == 0 ? FilterDecision.Keep() : FilterDecision.Rewrite((document with { Text = text }).WithAttribute("removed_chars", removed));
    }

    internal string Clean(string text, out int removed)
    {
        removed = 0;
        // Most documents lose nothing: find the first character that goes before copying anything.
        int first = 0;
        while (first < text.Length && Keeps(text, first, out int length)) first += length;
        if (first == text.Length) return text;
        var sb = new StringBuilder(text.Length);
        sb.Append(text, 0, first);
        for (int i = first; i < text.Length;)
        {
            if (Keeps(text, i, out int length)) sb.Append(text, i, length);
            else removed++;
            i += length;
        }
        return sb.ToString();
    }

    /// <summary>Whether the character at <paramref name="i"/> stays (printable ASCII always does), and its length in UTF-16 units.</summary>
    bool Keeps(string text, int i, out int length)
    {
        char c = text[i];
        length = 1;
        if (c is >= ' ' and <= '~' or '\n') return true;
        if (char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))) return false;
        var rune = Rune.GetRuneAt(text, i);
        length = rune.Utf16SequenceLength;
        return !Drop(rune);
    }

    bool Drop(Rune r)
    {
        int v = r.Value;
        if (v is '\n' or '\t') return false;
        if ((v & 0xFFFE) == 0xFFFE || v is >= 0xFDD0 and <= 0xFDEF) return true;   // noncharacters
        var category = Rune.GetUnicodeCategory(r);
        switch (category)
        {
            case UnicodeCategory.Control: return true;
            case UnicodeCategory.Format: return true;
            case UnicodeCategory.PrivateUse: return options.PrivateUse;
        }
        if (!options.Emoji) return false;
        return v is >= 0x1F000 and <= 0x1FAFF      // mahjong … symbols & pictographs, emoticons, transport, supplemental, extended-A
            or >= 0x2600 and <= 0x27BF             // miscellaneous symbols and dingbats (☀ ✨ ❤)
            or 0x2B50 or 0x2B55 or 0x2B1B or 0x2B1C // ⭐ ⭕ ⬛ ⬜
            or 0xFE0F or 0xFE0E or 0x20E3           // variation selectors 15/16, combining keycap
            or >= 0xE0020 and <= 0xE007F;          // emoji tag characters (flag sequences)
    }
}
