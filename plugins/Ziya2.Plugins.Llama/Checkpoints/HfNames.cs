namespace Ziya2.Plugins.Llama.Checkpoints;

/// <summary>Our parameter names ↔ Hugging Face <c>transformers</c> names.</summary>
static class HfNames
{
    public static string ToHf(string name) => name.StartsWith("lm_head.", StringComparison.Ordinal) ? name : "model." + name;
}
