using System.Text;
using Ziya2.SentencePiece;

namespace Ziya2.NGram;

/// <summary>How text becomes n-gram tokens; a model must be scored with the tokenisation it was trained with.</summary>
public enum LmTokenization
{
    /// <summary>
    /// Words separated by ASCII whitespace, as KenLM's <c>lmplz</c> and <c>query</c> read text (English; pre-tokenised
    /// text): other Unicode spaces such as U+00A0 stay inside words, as they do there.
    /// </summary>
    Whitespace,
    /// <summary>Every CJK ideograph is a token; runs of other non-space characters are words (Chinese without a segmenter).</summary>
    Characters,
    /// <summary>Pieces of a SentencePiece model (CCNet's tokenisation); needs the model file.</summary>
    SentencePiece,
}

/// <summary>Splits a line into n-gram tokens.</summary>
public sealed class LmTokenizer
{
    readonly LmTokenization _mode;
    readonly Func<string, List<string>>? _pieces;

    LmTokenizer(LmTokenization mode, Func<string, List<string>>? pieces) { _mode = mode; _pieces = pieces; }

    /// <summary>How this tokenizer splits text.</summary>
    public LmTokenization Mode => _mode;

    /// <summary>
    /// A tokenizer for <paramref name="mode"/>; <paramref name="sentencePieceModel"/> (a <c>tokenizer.model</c>) is
    /// required for SentencePiece. Unigram models (CCNet's, with nmt_nfkc) and BPE models with identity normalization
    /// (LLaMA's) go through Ziya2.SentencePiece's encoders, which reproduce the SentencePiece library piece for piece
    /// (tests/fixtures/tokenizer: expected_unigram.json, expected_base.json); a BPE model with a normalization map falls
    /// back to Microsoft.ML.Tokenizers, which differs from SentencePiece on merge ties.
    /// </summary>
    public static LmTokenizer Create(LmTokenization mode, string? sentencePieceModel = null)
    {
        if (mode != LmTokenization.SentencePiece) return new LmTokenizer(mode, null);
        if (sentencePieceModel is null) throw new ArgumentException("SentencePiece tokenisation needs a model file (tokenizer.model)");
        if (!File.Exists(sentencePieceModel)) throw new FileNotFoundException($"{sentencePieceModel}: no such SentencePiece model", sentencePieceModel);
        var model = SentencePieceModel.Load(sentencePieceModel);
        if (model.ModelType == SentencePieceModel.Unigram)
        {
            var unigram = new SentencePieceUnigram(model);
            return new LmTokenizer(mode, line => [.. unigram.Encode(line).Select(p => p.Piece)]);
        }
        if (!model.HasCharsMap)
        {
            var bpe = new SentencePieceBpe(model);
            return new LmTokenizer(mode, line => [.. bpe.Encode(line).Select(id => model.Pieces[id].Piece)]);
        }
        using var stream = File.OpenRead(sentencePieceModel);
        var approximate = Microsoft.ML.Tokenizers.SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false);
        return new LmTokenizer(mode, line => [.. approximate.EncodeToTokens(line, out _).Select(t => t.Value)]);
    }

    /// <summary>The tokens of one line.</summary>
    public List<string> Tokenize(string line) => _pieces is null ? Tokenize(line, _mode) : _pieces(line);

    /// <summary>The tokens of one line, for the modes that need no model.</summary>
    public static List<string> Tokenize(string line, LmTokenization mode)
    {
        var ranges = new List<Range>();
        Split(line, mode, ranges);
        return [.. ranges.Select(r => Token(line.AsSpan(r), mode))];
    }

    /// <summary>
    /// Where the tokens of one line are, for the modes that need no model — the one definition of the split, which
    /// <see cref="Tokenize(string, LmTokenization)"/> and the scorer (straight to ids) share. Whitespace: runs between
    /// KenLM's spaces (<c>util::kSpaces</c>, the C locale's isspace: space, \t, \n, \r, \f, \v). Characters: every CJK character alone, other runs of non-space characters as words (a lone
    /// surrogate is part of a word; <see cref="Token"/> gives it as U+FFFD, as .NET's runes read it).
    /// </summary>
    internal static void Split(ReadOnlySpan<char> line, LmTokenization mode, List<Range> tokens)
    {
        if (mode == LmTokenization.SentencePiece) throw new ArgumentException("SentencePiece tokenisation needs a model: use LmTokenizer.Create");
        tokens.Clear();
        int wordStart = -1;
        for (int i = 0; i < line.Length;)
        {
            int used = 1;
            bool space, alone = false;
            if (mode == LmTokenization.Whitespace) space = line[i] is ' ' or '\t' or '\n' or '\r' or '\f' or '\v';
            else
            {
                Rune.DecodeFromUtf16(line[i..], out var r, out used);   // an invalid sequence is U+FFFD: neither space nor CJK
                space = Rune.IsWhiteSpace(r);
                alone = !space && IsCjk(r.Value);
            }
            if ((space || alone) && wordStart >= 0) { tokens.Add(wordStart..i); wordStart = -1; }
            if (alone) tokens.Add(i..(i + used));
            else if (!space && wordStart < 0) wordStart = i;
            i += used;
        }
        if (wordStart >= 0) tokens.Add(wordStart..line.Length);
    }

    /// <summary>The text of a token <see cref="Split"/> found: as it stands, but in character mode with lone surrogates as U+FFFD.</summary>
    internal static string Token(ReadOnlySpan<char> token, LmTokenization mode) =>
        mode == LmTokenization.Characters && HasLoneSurrogate(token) ? string.Concat(token.ToString().EnumerateRunes().Select(r => r.ToString())) : token.ToString();

    /// <summary>Whether <see cref="Token"/> would repair <paramref name="token"/> (then its span is not its text).</summary>
    internal static bool HasLoneSurrogate(ReadOnlySpan<char> token)
    {
        for (int i = 0; i < token.Length; i++)
        {
            if (!char.IsSurrogate(token[i])) continue;
            if (char.IsHighSurrogate(token[i]) && i + 1 < token.Length && char.IsLowSurrogate(token[i + 1])) { i++; continue; }
            return true;
        }
        return false;
    }

    internal static bool IsCjk(int v) => v is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2FA1F or >= 0xF900 and <= 0xFAFF
        or >= 0x3000 and <= 0x303F or >= 0xFF00 and <= 0xFFEF;   // CJK punctuation and full-width forms count as characters too
}
