using Ziya2.Configuration;
using Ziya2.SentencePiece;
using Ziya2.Tokenization;

namespace Ziya2.Plugins.Tokenizers;

/// <summary>Options of the <c>sentencepiece</c> tokenizer.</summary>
public sealed class SentencePieceOptions : IValidatableOptions
{
    /// <summary>Path of the <c>tokenizer.model</c> file.</summary>
    [ConfigRequired] public string Model { get; set; } = "";

    // The file is read when the tokenizer is built, not here: a recipe for a cluster validates on a laptop that lacks it.
    public IEnumerable<string> Validate()
    {
        if (Model.Length > 0 && !Model.EndsWith(".model", StringComparison.Ordinal))
            yield return $"tokenizer model '{Model}' should be a SentencePiece .model file";
    }
}

/// <summary>
/// A LLaMA-style SentencePiece BPE tokenizer read from <c>tokenizer.model</c>, encoding exactly as the SentencePiece
/// library does. Special tokens follow the HF LLaMA tokenizer: bos/eos ids come from the model (LLaMA: 1 and 2) and
/// are added on request only; text is always plain text.
/// </summary>
public sealed class SentencePieceTokenizer : IVocabularyExtender
{
    readonly SentencePieceBpe _bpe;

    public SentencePieceTokenizer(SentencePieceOptions options) : this(SentencePieceModel.Load(options.Model)) { }

    internal SentencePieceTokenizer(SentencePieceModel model)
    {
        Model = model;
        _bpe = new SentencePieceBpe(model);
        int Check(int id) => id >= 0 && id < model.Pieces.Count ? id : -1;
        Vocabulary = new TokenizerVocabulary(model.Pieces.Select(p => p.Piece).ToList(), model.Pieces.Select(p => p.Score).ToList(),
            model.Pieces.Select(p => (TokenType)(int)p.Type).ToList(), model.UnkId,
            Check(model.BosId) is var b && b >= 0 ? b : null, Check(model.EosId) is var e && e >= 0 ? e : null, Check(model.PadId) is var p && p >= 0 ? p : null);
    }

    /// <summary>Opens a <c>tokenizer.model</c> file.</summary>
    public static SentencePieceTokenizer Load(string path) => new(SentencePieceModel.Load(path));

    internal SentencePieceModel Model { get; }
    public TokenizerVocabulary Vocabulary { get; }

    public IReadOnlyList<int> Encode(string text, bool addBos = false, bool addEos = false)
    {
        var ids = _bpe.Encode(text);
        if (addBos && Vocabulary.BosId is { } bos) ids.Insert(0, bos);
        if (addEos && Vocabulary.EosId is { } eos) ids.Add(eos);
        return ids;
    }

    /// <summary>Appends the ids of <paramref name="text"/> without allocating a string or a list per call.</summary>
    public void EncodeInto(ReadOnlySpan<char> text, List<int> ids) => _bpe.Encode(text, ids);

    public string Decode(IReadOnlyList<int> ids) => _bpe.Decode(ids);

    public IReadOnlyList<int> SplitForInitialization(string piece) => _bpe.Encode(piece, dummyPrefix: false);

    /// <summary>
    /// Writes <c>tokenizer.model</c> (the original bytes plus the appended pieces, scored below every existing piece in
    /// order) and Hugging Face <c>tokenizer_config.json</c> / <c>special_tokens_map.json</c>, atomically.
    /// </summary>
    public ITokenizer SaveExtended(IReadOnlyList<string> newPieces, string directory)
    {
        var existing = new HashSet<string>(Vocabulary.Pieces, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in newPieces)
            if (string.IsNullOrEmpty(p) || existing.Contains(p) || !seen.Add(p))
                throw new ArgumentException($"cannot add piece '{p}': empty, duplicated or already in the vocabulary");
        float floor = Model.Pieces.Min(p => p.Score);
        var added = newPieces.Select((p, i) => (p, floor - 1 - i, SentencePieceType.Normal)).ToList();
        var bytes = Model.WithAppendedPieces(added);
        var extended = new SentencePieceTokenizer(SentencePieceModel.Parse(bytes));

        var full = Path.GetFullPath(directory);
        var tmp = $"{full}.tmp-{Environment.ProcessId}";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);
        File.WriteAllBytes(Path.Combine(tmp, "tokenizer.model"), bytes);
        HfTokenizerFiles.Write(tmp, extended.Vocabulary);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        if (Directory.Exists(full))
        {
            foreach (var f in Directory.GetFiles(tmp)) File.Move(f, Path.Combine(full, Path.GetFileName(f)), overwrite: true);
            Directory.Delete(tmp);
        }
        else Directory.Move(tmp, full);
        return extended;
    }
}
