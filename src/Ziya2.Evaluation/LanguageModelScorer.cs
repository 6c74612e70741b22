using Ziya2.Models;
using Ziya2.Tokenization;
using static TorchSharp.torch;

namespace Ziya2.Evaluation;

/// <summary>
/// What benchmarks ask of a model: the log-likelihood of continuations after a prompt, and greedy continuations that
/// stop at stop strings. Prompts longer than the model allows lose tokens from the left (few-shot examples go first).
/// </summary>
public sealed class LanguageModelScorer(ILanguageModel model, ITokenizer tokenizer)
{
    public ILanguageModel Model => model;
    public ITokenizer Tokenizer => tokenizer;

    /// <summary>Σ log p(continuation tokens | prompt) for each continuation, and how many tokens each has.</summary>
    /// <remarks>
    /// The continuation's tokens are those of <c>prompt + continuation</c> after the prompt's own tokens, so a tokenizer
    /// that merges across the boundary is handled; when every continuation is one token after the same prefix (the
    /// usual case for answer letters) one forward pass serves them all.
    /// </remarks>
    public IReadOnlyList<(double LogLikelihood, int Tokens)> ContinuationLogLikelihoods(string prompt, IReadOnlyList<string> continuations)
    {
        var promptIds = tokenizer.Encode(prompt, addBos: true);
        var full = continuations.Select(c => tokenizer.Encode(prompt + c, addBos: true)).ToList();
        int shared = full.Select(f => CommonPrefix(promptIds, f)).Min();
        using var _ = no_grad();
        if (full.All(f => f.Count == shared + 1 && CommonPrefix(full[0], f) >= shared))
        {
            using var scope = NewDisposeScope();
            var context = Fit(full[0].Take(shared).ToList(), 1);
            var logp = nn.functional.log_softmax(Logits(context)[0, -1], 0);
            return full.Select(f => ((double)logp[f[^1]].item<float>(), 1)).ToList();
        }
        return full.Select(f =>
        {
            using var scope = NewDisposeScope();
            int start = shared;
            var ids = Fit(f.ToList(), 0, ref start);
            int first = Math.Max(start, 1);
            if (first >= ids.Count) return (0.0, ids.Count - first);
            // One gather for every continuation token (not a tensor index and a copy per token), summed as before.
            var logp = nn.functional.log_softmax(Logits(ids)[0, (first - 1)..(ids.Count - 1)], 1);
            var targets = tensor(ids.Skip(first).Select(i => (long)i).ToArray(), device: logp.device).unsqueeze(1);
            var picked = logp.gather(1, targets).squeeze(1).cpu().data<float>().ToArray();
            double sum = 0;
            foreach (var p in picked) sum += p;
            return (sum, ids.Count - first);
        }).ToList();
    }

    /// <summary>Greedy continuation of <paramref name="prompt"/>, cut at the first stop string (not included).</summary>
    public string Generate(string prompt, int maxNewTokens, IReadOnlyList<string> stop) => GenerateMany([prompt], maxNewTokens, stop)[0];

    /// <summary>
    /// <see cref="Generate"/> for several prompts, decoded as one batch when the model can (<see cref="TextGeneration.GenerateBatch"/>):
    /// a benchmark's questions cost one short forward per token for all of them instead of one each.
    /// </summary>
    public IReadOnlyList<string> GenerateMany(IReadOnlyList<string> prompts, int maxNewTokens, IReadOnlyList<string> stop)
    {
        if (maxNewTokens < 1 || maxNewTokens >= model.MaxSequenceLength)
            throw new ArgumentException($"max new tokens {maxNewTokens} must be between 1 and the model's {model.MaxSequenceLength} positions minus the prompt");
        var ids = prompts.Select(p => Fit(tokenizer.Encode(p, addBos: true).ToList(), maxNewTokens)).ToList();
        // Text is decoded with the prompt in front and the prompt's own text cut off: decoding the new tokens alone would
        // drop a SentencePiece word-boundary space at their start (the decoder removes the first piece's dummy prefix),
        // and HumanEval completions would lose a column of indentation.
        var heads = ids.Select(i => tokenizer.Decode(i)).ToList();
        string Continuation(int row, IEnumerable<long> generated)
        {
            var full = tokenizer.Decode([.. ids[row], .. generated.Where(i => i != tokenizer.Vocabulary.EosId).Select(i => (int)i)]);
            return full.StartsWith(heads[row], StringComparison.Ordinal) ? full[heads[row].Length..] : tokenizer.Decode(generated.Select(i => (int)i).ToList());
        }
        var outputs = TextGeneration.GenerateBatch(model, [.. ids.Select(i => (IReadOnlyList<long>)i.Select(t => (long)t).ToList())], new GenerationOptions
        {
            MaxNewTokens = maxNewTokens,
            StopTokens = tokenizer.Vocabulary.EosId is { } eos ? [eos] : [],
        }, (row, generated) => stop.Count > 0 && stop.Any(Continuation(row, generated).Contains));
        return [.. outputs.Select((output, row) =>
        {
            var text = Continuation(row, output);
            foreach (var s in stop)
                if (text.IndexOf(s, StringComparison.Ordinal) is var at and >= 0) text = text[..at];
            return text;
        })];
    }

    Tensor Logits(IReadOnlyList<int> ids)
    {
        var device = model.Device;
        return model.Forward(tensor(ids.Select(i => (long)i).ToArray(), device: device).unsqueeze(0));
    }

    List<int> Fit(List<int> ids, int reserve) { int start = 0; return Fit(ids, reserve, ref start); }

    /// <summary>Drops tokens from the left (keeping a leading bos) so the sequence plus <paramref name="reserve"/> fits the model.</summary>
    List<int> Fit(List<int> ids, int reserve, ref int scoredFrom)
    {
        int limit = model.MaxSequenceLength - reserve;
        if (ids.Count <= limit) return ids;
        int drop = ids.Count - limit;
        bool bos = tokenizer.Vocabulary.BosId is { } b && ids.Count > 0 && ids[0] == b;
        var kept = bos ? [ids[0], .. ids.Skip(1 + drop)] : ids.Skip(drop).ToList();
        scoredFrom = Math.Max(bos ? 1 : 0, scoredFrom - drop);
        return kept;
    }

    static int CommonPrefix(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        int n = 0;
        while (n < a.Count && n < b.Count && a[n] == b[n]) n++;
        return n;
    }
}
