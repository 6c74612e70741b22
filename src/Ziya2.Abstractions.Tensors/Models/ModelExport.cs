using Ziya2.Models.Checkpoints;
using static TorchSharp.torch;

namespace Ziya2.Models;

/// <summary>Writes a model in a named format: <c>hf</c> for every model, more where it is an <see cref="IModelExporter"/>.</summary>
public static class ModelExport
{
    /// <summary>The formats <paramref name="model"/> can be written in.</summary>
    public static IReadOnlyList<string> Formats(ILanguageModel model) =>
        ["hf", .. (model as IModelExporter)?.ExportFormats.Where(f => f != "hf") ?? []];

    /// <summary><c>f32</c>, <c>f16</c> or <c>bf16</c> as a tensor type.</summary>
    public static ScalarType ParseDtype(string dtype) => dtype switch
    {
        "f32" => ScalarType.Float32, "f16" => ScalarType.Float16, "bf16" => ScalarType.BFloat16,
        _ => throw new ArgumentException($"unknown dtype '{dtype}'; use f32, f16 or bf16"),
    };

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> in <paramref name="format"/> with tensors stored as <paramref name="dtype"/>.</summary>
    public static void Write(ILanguageModel model, string format, string path, string dtype, Tokenization.ITokenizer? tokenizer = null)
    {
        var type = ParseDtype(dtype);
        if (format == "hf") HuggingFaceCheckpoint.Save(model, path, type);
        else if (model is IModelExporter exporter && exporter.ExportFormats.Contains(format)) exporter.Export(format, path, type, tokenizer);
        else throw new ArgumentException($"unknown export format '{format}' for {model.Architecture}; use {string.Join(" or ", Formats(model))}");
    }
}
