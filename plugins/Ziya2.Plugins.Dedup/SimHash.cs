using System.Buffers;
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
    /// A shingle's feature is the 64-bit xxHash of its tokens' UTF-8, each followed by U+0001.
    /// </summary>
    public static ulong Compute(string text, int shingle)
    {
        // Every token is written once, as UTF-8 followed by 0x01, into one buffer: a shingle is then one contiguous
        // slice of it (from its first token's start to the start of the token after its last), hashed in place.
        var bytes = ArrayPool<byte>.Shared.Rent(text.Length * 4 + 1);
        var starts = ArrayPool<int>.Shared.Rent(text.Length + 2);
        try
        {
            int tokens = Tokenize(text, bytes, starts);
            int features = Math.Max(1, tokens - shingle + 1);
            // Each feature votes +1 or -1 on every bit; a bit of the result is set where the ones outnumber the zeros.
            // The ones are counted a byte of the hash at a time: OnesOfByte spreads a byte's 8 bits over 8 byte
            // counters of one ulong, so 8 additions count 64 bits; the counters are emptied before any reaches 256.
            Span<int> ones = stackalloc int[64];
            ones.Clear();
            Span<ulong> counters = stackalloc ulong[8];
            counters.Clear();
            var spread = OnesOfByte;
            for (int i = 0; i < features; i++)
            {
                ulong h = XxHash64.HashToUInt64(bytes.AsSpan(starts[i], starts[Math.Min(tokens, i + shingle)] - starts[i]));
                for (int b = 0; b < 8; b++) counters[b] += spread[(int)(h >> (8 * b)) & 0xFF];
                if (i % 255 == 254 || i == features - 1) Drain(counters, ones);
            }
            ulong result = 0;
            for (int bit = 0; bit < 64; bit++) if (2 * ones[bit] > features) result |= 1UL << bit;
            return result;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            ArrayPool<int>.Shared.Return(starts);
        }
    }

    public static int Distance(ulong a, ulong b) => BitOperations.PopCount(a ^ b);

    /// <summary>[b]: a ulong whose byte k is bit k of b.</summary>
    static readonly ulong[] OnesOfByte = Enumerable.Range(0, 256).Select(b =>
    {
        ulong v = 0;
        for (int k = 0; k < 8; k++) if ((b >> k & 1) != 0) v |= 1UL << (8 * k);
        return v;
    }).ToArray();

    static void Drain(Span<ulong> counters, Span<int> ones)
    {
        for (int b = 0; b < 8; b++)
        {
            for (int k = 0; k < 8; k++) ones[8 * b + k] += (int)(counters[b] >> (8 * k) & 0xFF);
            counters[b] = 0;
        }
    }

    /// <summary>
    /// Writes the tokens into <paramref name="bytes"/> (UTF-8, each followed by 0x01) and where each starts into
    /// <paramref name="starts"/> (one more entry: the end); returns their number. At most 4 bytes per UTF-16 unit: a
    /// BMP character is at most 3 bytes lower-cased, and a separator follows at least one unit.
    /// </summary>
    static int Tokenize(string text, byte[] bytes, int[] starts)
    {
        int count = 0, at = 0;
        bool inWord = false;
        foreach (var r in text.EnumerateRunes())
        {
            if (r.Value is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2FA1F or >= 0xF900 and <= 0xFAFF)
            {
                if (inWord) { bytes[at++] = 1; inWord = false; }
                starts[count++] = at;
                at += r.EncodeToUtf8(bytes.AsSpan(at));
                bytes[at++] = 1;
            }
            else if (Rune.IsLetterOrDigit(r))
            {
                if (!inWord) { starts[count++] = at; inWord = true; }
                at += Rune.ToLowerInvariant(r).EncodeToUtf8(bytes.AsSpan(at));
            }
            else if (inWord) { bytes[at++] = 1; inWord = false; }
        }
        if (inWord) bytes[at++] = 1;
        starts[count] = at;
        return count;
    }
}
