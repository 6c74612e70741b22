using System.IO.MemoryMappedFiles;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ziya2.Training.Data;

/// <summary>What a token directory holds and how it was made; a different tokenizer makes it unusable (checked on open).</summary>
public sealed record TokenManifest(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("tokenizer_hash")] string TokenizerHash,
    [property: JsonPropertyName("vocab_size")] int VocabSize,
    [property: JsonPropertyName("documents")] long Documents,
    [property: JsonPropertyName("tokens")] long Tokens,
    [property: JsonPropertyName("supervised_documents")] long SupervisedDocuments,
    [property: JsonPropertyName("shards")] IReadOnlyList<string> Shards)
{
    public const string CurrentFormat = "ziya2-tokens-v1";
}

/// <summary>
/// One source's tokenised documents, memory-mapped: <c>tokens.bin</c> (int32 ids, documents back to back, no
/// separators), <c>offsets.bin</c> (int64, documents + 1 entries) and <c>prompts.bin</c> (int32 per document: tokens of
/// prompt before the answer, 0 for plain text). Reading a document copies only its tokens; the OS pages the rest.
/// </summary>
public sealed class TokenFile : IDisposable
{
    readonly MemoryMappedFile? _tokens;
    readonly MemoryMappedViewAccessor? _tokenView;
    readonly long[] _offsets;
    readonly int[] _prompts;

    public TokenManifest Manifest { get; }
    public string Directory { get; }
    public long Documents => _offsets.Length - 1;
    public long Tokens => _offsets[^1];

    TokenFile(string directory, TokenManifest manifest, long[] offsets, int[] prompts)
    {
        Directory = directory; Manifest = manifest; _offsets = offsets; _prompts = prompts;
        var path = Path.Combine(directory, "tokens.bin");
        if (Tokens > 0)
        {
            _tokens = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _tokenView = _tokens.CreateViewAccessor(0, Tokens * 4, MemoryMappedFileAccess.Read);
        }
    }

    /// <summary>Opens a token directory; refuses a damaged one (sizes that disagree with the manifest) or another tokenizer's.</summary>
    public static TokenFile Open(string directory, string? expectedTokenizerHash = null)
    {
        var manifestPath = Path.Combine(directory, "manifest.json");
        if (!File.Exists(manifestPath)) throw new FileNotFoundException($"{directory}: no manifest.json (not a finished token directory)", manifestPath);
        var manifest = JsonSerializer.Deserialize<TokenManifest>(File.ReadAllText(manifestPath)) ?? throw new InvalidDataException($"{manifestPath}: empty");
        if (manifest.Format != TokenManifest.CurrentFormat) throw new InvalidDataException($"{manifestPath}: format '{manifest.Format}', expected '{TokenManifest.CurrentFormat}'");
        if (expectedTokenizerHash is not null && manifest.TokenizerHash != expectedTokenizerHash)
            throw new InvalidDataException($"{directory} was tokenised with another tokenizer ({manifest.TokenizerHash[..12]}, this run uses {expectedTokenizerHash[..12]}); rebuild it");
        var offsets = ReadArray<long>(Path.Combine(directory, "offsets.bin"));
        var prompts = ReadArray<int>(Path.Combine(directory, "prompts.bin"));
        var tokenBytes = new FileInfo(Path.Combine(directory, "tokens.bin")).Length;
        if (offsets.Length != manifest.Documents + 1 || prompts.Length != manifest.Documents || offsets[^1] != manifest.Tokens || tokenBytes != manifest.Tokens * 4)
            throw new InvalidDataException($"{directory}: files disagree with manifest.json ({manifest.Documents} documents, {manifest.Tokens} tokens)");
        return new TokenFile(directory, manifest, offsets, prompts);
    }

    static T[] ReadArray<T>(string path) where T : unmanaged
    {
        var bytes = File.ReadAllBytes(path);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray();
    }

    /// <summary>Tokens of document <paramref name="index"/>.</summary>
    public int[] Document(long index)
    {
        long start = _offsets[index], length = _offsets[index + 1] - start;
        var result = new int[length];
        if (length > 0) _tokenView!.ReadArray(start * 4, result, 0, (int)length);
        return result;
    }

    /// <summary>Tokens of the prompt at the start of document <paramref name="index"/> (0: plain text).</summary>
    public int PromptLength(long index) => _prompts[index];

    public void Dispose() { _tokenView?.Dispose(); _tokens?.Dispose(); }
}
