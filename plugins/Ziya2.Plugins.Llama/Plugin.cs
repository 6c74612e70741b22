using Ziya2;
using Ziya2.Plugins;

[assembly: Ziya2Plugin(Ziya2Sdk.Version)]

namespace Ziya2.Plugins.Llama;

/// <summary>LLaMA-family causal language models with Ziya2's numerics.</summary>
public sealed class LlamaPlugin : IZiya2Plugin
{
    public void Register(IPluginRegistrar registrar) => registrar
        .AddModel<LlamaModel, LlamaOptions>("llama", "LLaMA2 decoder (RMSNorm, RoPE, GQA, SwiGLU) with FP32 norm/RoPE/softmax");
}
