namespace Ziya2.Training;

/// <summary>A tokenizer beside model weights, as Hugging Face directories carry it.</summary>
public static class TokenizerFiles
{
    /// <summary>The Hugging Face tokenizer files that travel with a <c>tokenizer.model</c> when they sit beside it.</summary>
    static readonly string[] Companions = ["tokenizer_config.json", "special_tokens_map.json"];

    /// <summary>
    /// Copies <paramref name="tokenizerModel"/> into <paramref name="directory"/> as <c>tokenizer.model</c>, with the
    /// Hugging Face files beside it; nothing when it is null. A missing file is an error naming it.
    /// </summary>
    public static void CopyInto(string? tokenizerModel, string directory)
    {
        if (tokenizerModel is null) return;
        if (!File.Exists(tokenizerModel)) throw new FileNotFoundException($"the run's tokenizer {tokenizerModel} is gone: it cannot go beside the weights in {directory}", tokenizerModel);
        Directory.CreateDirectory(directory);
        File.Copy(tokenizerModel, Path.Combine(directory, "tokenizer.model"), overwrite: true);
        foreach (var companion in Companions)
            if (Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerModel))!, companion) is var path && File.Exists(path))
                File.Copy(path, Path.Combine(directory, companion), overwrite: true);
    }
}
