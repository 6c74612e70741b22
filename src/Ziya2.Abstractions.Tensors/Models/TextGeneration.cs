using TorchSharp;
using static TorchSharp.torch;

namespace Ziya2.Models;

/// <summary>
/// Text generation for any <see cref="ILanguageModel"/>: greedy, or temperature + nucleus (top-p) sampling, stopping on
/// stop tokens or a caller's test. Uses the model's <see cref="IIncrementalDecoder"/> when it has one; otherwise each
/// step runs the whole sequence again (correct, slower).
/// </summary>
public static class TextGeneration
{
    /// <summary>Continues <paramref name="prompt"/> (one sequence); returns only the new tokens.</summary>
    public static IReadOnlyList<long> Generate(ILanguageModel model, IReadOnlyList<long> prompt, GenerationOptions options)
    {
        if (prompt.Count == 0) throw new ArgumentException("prompt must not be empty");
        if (prompt.Count + options.MaxNewTokens > model.MaxSequenceLength)
            throw new ArgumentException($"prompt ({prompt.Count}) + max_new_tokens ({options.MaxNewTokens}) exceeds the model's {model.MaxSequenceLength} positions");
        var device = model.Device;
        var generator = new Generator((ulong)options.Seed, device);
        var output = new List<long>();
        var network = model.Module;
        bool wasTraining = network.training;
        network.eval();
        try
        {
            using var _ = no_grad();
            using var cache = (model as IIncrementalDecoder)?.NewCache();
            var sequence = prompt.ToList();
            var next = prompt.ToArray();
            for (int i = 0; i < options.MaxNewTokens; i++)
            {
                using var scope = NewDisposeScope();
                var logits = cache is not null
                    ? ((IIncrementalDecoder)model).Forward(tensor(next, device: device).unsqueeze(0), cache)[0, -1]
                    : model.Forward(tensor(sequence.ToArray(), device: device).unsqueeze(0))[0, -1];
                long token = Pick(logits.to_type(ScalarType.Float32), options, generator);
                output.Add(token);
                sequence.Add(token);
                if (options.StopTokens.Contains(token) || options.StopWhen?.Invoke(output) == true) break;
                next = [token];
            }
        }
        finally { network.train(wasTraining); }
        return output;
    }

    static long Pick(Tensor logits, GenerationOptions o, Generator generator)
    {
        if (o.Temperature <= 0) return logits.argmax().item<long>();
        var probs = (logits / o.Temperature).softmax(-1);
        if (o.TopP < 1.0)
        {
            var (sorted, order) = probs.sort(descending: true);
            var before = sorted.cumsum(0) - sorted;                 // mass strictly before each token
            sorted = sorted.masked_fill(before >= o.TopP, 0);       // the top token always survives
            probs = zeros_like(probs).scatter(0, order, sorted);
        }
        return probs.multinomial(1, generator: generator).item<long>();
    }
}
