using Ziya2.Tokenization;

namespace Ziya2.Training.Tests;

sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("ziya2-train-").FullName;
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}

/// <summary>One id per character (a–z → 3–28, anything else → 2 = unk); 0 pad, 1 eos. Enough to check layouts by eye.</summary>
sealed class LetterTokenizer : ITokenizer
{
    public const int Pad = 0, Eos = 1, Unk = 2;
    public TokenizerVocabulary Vocabulary { get; } = new(
        ["<pad>", "</s>", "<unk>", .. Enumerable.Range('a', 26).Select(c => ((char)c).ToString())],
        Enumerable.Repeat(0f, 29).ToList(), [TokenType.Control, TokenType.Control, TokenType.Unknown, .. Enumerable.Repeat(TokenType.Normal, 26)],
        Unk, null, Eos, Pad);

    public IReadOnlyList<int> Encode(string text, bool addBos = false, bool addEos = false) =>
        [.. text.Select(c => c is >= 'a' and <= 'z' ? c - 'a' + 3 : Unk), .. addEos ? new[] { Eos } : []];

    public string Decode(IReadOnlyList<int> ids) => string.Concat(ids.Where(i => i >= 3).Select(i => (char)('a' + i - 3)));

    public static string Text(IEnumerable<int> ids) => string.Concat(ids.Select(i => i switch { Pad => '_', Eos => '|', PackedSequenceIgnore => '.', _ => (char)('a' + i - 3) }));
    const int PackedSequenceIgnore = -100;
}
