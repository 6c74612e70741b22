using System.IO.Hashing;
using System.Numerics;
using System.Text;

namespace Ziya2.Plugins.Dedup;

/// <summary>Charikar's 64-bit SimHash over token shingles: near-identical texts differ in few bits.</summary>
static class SimHash
{
    /// <summary>
    /// Tokens are CJK ideographs and lower-cased runs of letters/digits; features are shingles of
    /// <paramref name="shingle"/> consecutive tokens (the whole text when shorter), each weighing one per occurrence.
    /// </summary>
    public static ulong Compute(string text, int shingle)
    {
        var tokens = Tokens(text);
        Span<int> votes = stackalloc int[64];
        votes.Clear();
        int features = Math.Max(1, tokens.Count - shingle + 1);
        var buffer = new StringBuilder();
        for (int i = 0; i < features; i++)
        {
            buffer.Clear();
            for (int k = i; k < Math.Min(tokens.Count, i + shingle); k++) buffer.Append(tokens[k]).Append('\u0001');
            ulong h = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(buffer.ToString()));
            for (int bit = 0; bit < 64; bit++) votes[bit] += ((h >> bit) & 1) != 0 ? 1 : -1;
        }
        ulong result = 0;
        for (int bit = 0; bit < 64; bit++) if (votes[bit] > 0) result |= 1UL << bit;
        return result;
    }

    public static int Distance(ulong a, ulong b) => BitOperations.PopCount(a ^ b);

    static List<string> Tokens(string text)
    {
        var tokens = new List<string>();
        var word = new StringBuilder();
        foreach (var r in text.EnumerateRunes())
        {
            if (r.Value is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2FA1F or >= 0xF900 and <= 0xFAFF)
            {
                Flush(); tokens.Add(r.ToString());
            }
            else if (Rune.IsLetterOrDigit(r)) word.Append(Rune.ToLowerInvariant(r).ToString());
            else Flush();
        }
        Flush();
        return tokens;

        void Flush() { if (word.Length > 0) { tokens.Add(word.ToString()); word.Clear(); } }
    }
}
