using Ziya2.Models;
using Ziya2.Tokenization;
using static TorchSharp.torch;

namespace Ziya2.Evaluation;

/// <summary>
/// The default text embedder: a language model's last-layer hidden states, mean-pooled over each text's tokens
/// (at most <paramref name="maxTokens"/>), float32. Any model component that exposes hidden states serves.
/// </summary>
public sealed class ModelEmbedder(ILanguageModel model, ITokenizer tokenizer, int maxTokens = 512) : ITextEmbedder
{
    int _dimension = -1;

    public int Dimension => _dimension >= 0 ? _dimension : Embed(["x"])[0].Length;

    public IReadOnlyList<float[]> Embed(IReadOnlyList<string> texts)
    {
        var device = model.Device;
        var result = new List<float[]>(texts.Count);
        using var _ = no_grad();
        foreach (var text in texts)
        {
            using var scope = NewDisposeScope();
            var ids = tokenizer.Encode(text, addBos: true).Take(Math.Min(maxTokens, model.MaxSequenceLength)).Select(i => (long)i).ToArray();
            var vector = model.HiddenStates(tensor(ids, device: device).unsqueeze(0))[0].mean([0L]).cpu().data<float>().ToArray();
            _dimension = vector.Length;
            result.Add(vector);
        }
        return result;
    }
}

/// <summary>Ziya2's similarity attribute (§7.1): how close a stage's training data is to a benchmark's test set.</summary>
public static class DataSimilarity
{
    /// <summary>
    /// The average cosine similarity over all (data, test) pairs. The paper does not say whether it averaged pairs or
    /// compared mean embeddings; we average pairs, computed exactly as the dot product of the two mean unit vectors
    /// (mean over i, j of x̂ᵢ·ŷⱼ = (mean x̂)·(mean ŷ)), so it costs one pass over each side.
    /// </summary>
    public static double AverageCosine(ITextEmbedder embedder, IReadOnlyList<string> data, IReadOnlyList<string> test, int batch = 64)
    {
        if (data.Count == 0 || test.Count == 0) throw new ArgumentException("both sides need at least one text");
        return AverageCosine(MeanUnit(embedder, data, batch), MeanUnit(embedder, test, batch));
    }

    /// <summary>
    /// The same from each side's <see cref="MeanUnit"/>: a stage's data is embedded once for every benchmark, a
    /// benchmark's questions once for every stage.
    /// </summary>
    public static double AverageCosine(double[] dataMeanUnit, double[] testMeanUnit) => Dot(dataMeanUnit, testMeanUnit);

    /// <summary>The mean of the texts' unit-length embeddings (an all-zero embedding adds nothing but counts).</summary>
    public static double[] MeanUnit(ITextEmbedder embedder, IReadOnlyList<string> texts, int batch = 64)
    {
        if (texts.Count == 0) throw new ArgumentException("no text to embed");
        double[]? sum = null;
        for (int start = 0; start < texts.Count; start += batch)
            foreach (var v in embedder.Embed(texts.Skip(start).Take(batch).ToList()))
            {
                sum ??= new double[v.Length];
                if (v.Length != sum.Length) throw new InvalidDataException($"embedder returned vectors of {v.Length} and {sum.Length} floats");
                double norm = Math.Sqrt(v.Sum(x => (double)x * x));
                if (norm == 0) continue;   // an all-zero vector has no direction: it adds nothing
                for (int i = 0; i < v.Length; i++) sum[i] += v[i] / norm;
            }
        return sum!.Select(x => x / texts.Count).ToArray();
    }

    static double Dot(double[] a, double[] b) =>
        a.Length == b.Length ? a.Zip(b).Sum(p => p.First * p.Second) : throw new ArgumentException($"embeddings of {a.Length} and {b.Length} values");
}
