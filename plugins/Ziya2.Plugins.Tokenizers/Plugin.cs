using Ziya2;
using Ziya2.Plugins;

[assembly: Ziya2Plugin(Ziya2Sdk.Version)]

namespace Ziya2.Plugins.Tokenizers;

/// <summary>Tokenizers: LLaMA's SentencePiece BPE, reimplemented to match the SentencePiece library id for id.</summary>
public sealed class TokenizersPlugin : IZiya2Plugin
{
    public void Register(IPluginRegistrar registrar) => registrar
        .AddTokenizer<SentencePieceTokenizer, SentencePieceOptions>("sentencepiece", "SentencePiece BPE with byte fallback (LLaMA tokenizer.model), exact");
}
