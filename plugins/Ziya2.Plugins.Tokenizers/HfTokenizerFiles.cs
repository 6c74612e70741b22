using System.Text.Json;
using System.Text.Json.Nodes;
using Ziya2.Tokenization;

namespace Ziya2.Plugins.Tokenizers;

/// <summary>
/// Hugging Face files that make a directory with <c>tokenizer.model</c> load as a LLaMA tokenizer in
/// <c>transformers</c> (slow <c>LlamaTokenizer</c> reads the SentencePiece model; the fast one is converted from it).
/// </summary>
static class HfTokenizerFiles
{
    public static void Write(string directory, TokenizerVocabulary v)
    {
        string? Piece(int? id) => id is { } i ? v.Pieces[i] : null;
        var options = new JsonSerializerOptions { WriteIndented = true };
        var config = new JsonObject
        {
            ["tokenizer_class"] = "LlamaTokenizer", ["add_bos_token"] = true, ["add_eos_token"] = false,
            ["bos_token"] = Piece(v.BosId), ["eos_token"] = Piece(v.EosId), ["unk_token"] = v.Pieces[v.UnknownId], ["pad_token"] = Piece(v.PadId),
            ["clean_up_tokenization_spaces"] = false, ["legacy"] = true, ["model_max_length"] = 4096, ["sp_model_kwargs"] = new JsonObject(),
        };
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config.ToJsonString(options));
        var special = new JsonObject { ["bos_token"] = Piece(v.BosId), ["eos_token"] = Piece(v.EosId), ["unk_token"] = v.Pieces[v.UnknownId] };
        if (v.PadId is not null) special["pad_token"] = Piece(v.PadId);
        File.WriteAllText(Path.Combine(directory, "special_tokens_map.json"), special.ToJsonString(options));
    }
}
