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
        CheckPrompt(model, prompt, options);
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

    /// <summary>
    /// Continues each of <paramref name="prompts"/>; returns each one's new tokens. Greedy decoding of a model with
    /// <see cref="IBatchIncrementalDecoder"/> runs the prompts as one batch (left-padded; a finished row rides along
    /// until every row is done); sampling, or a model without it, continues them one at a time with
    /// <see cref="Generate"/>, so the results are those <see cref="Generate"/> gives (up to rounding between batched and
    /// single matrix products). <see cref="GenerationOptions.StopWhen"/> applies to every row, <paramref name="stopWhen"/>
    /// (row, tokens so far) to one.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<long>> GenerateBatch(ILanguageModel model, IReadOnlyList<IReadOnlyList<long>> prompts, GenerationOptions options,
        Func<int, IReadOnlyList<long>, bool>? stopWhen = null)
    {
        bool Stops(int row, List<long> output) =>
            options.StopTokens.Contains(output[^1]) || options.StopWhen?.Invoke(output) == true || stopWhen?.Invoke(row, output) == true;
        if (model is not IBatchIncrementalDecoder batched || options.Temperature > 0 || prompts.Count < 2)
            return [.. prompts.Select((p, row) => Generate(model, p, options with
            {
                StopWhen = output => options.StopWhen?.Invoke(output) == true || stopWhen?.Invoke(row, output) == true,
            }))];
        foreach (var p in prompts) CheckPrompt(model, p, options);
        int rows = prompts.Count, width = prompts.Max(p => p.Count);
        var device = model.Device;
        var outputs = prompts.Select(_ => new List<long>()).ToArray();
        var done = new bool[rows];
        // Row r is padded by pad[r] positions on the left: it may attend to every key from pad[r] on (its prompt, then
        // every new token).
        var pad = prompts.Select(p => width - p.Count).ToArray();
        var ids = new long[rows * width];
        var positions = new long[rows * width];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < prompts[r].Count; j++)
            {
                ids[r * width + pad[r] + j] = prompts[r][j];
                positions[r * width + pad[r] + j] = j;
            }
        var network = model.Module;
        bool wasTraining = network.training;
        network.eval();
        try
        {
            using var _ = no_grad();
            using var cache = batched.NewCache();
            long[] next;
            using (var scope = NewDisposeScope())
            {
                // Prompt tokens see earlier tokens of their own row; a padding position sees itself only (a row that sees
                // nothing would be NaN, and NaN values times zero weights would reach the real tokens).
                var mask = new bool[rows * width * width];
                for (int r = 0; r < rows; r++)
                    for (int i = 0; i < width; i++)
                        for (int j = 0; j <= i; j++)
                            mask[(r * width + i) * width + j] = i >= pad[r] ? j >= pad[r] : i == j;
                var logits = batched.Forward(tensor(ids, device: device).view(rows, width), cache, tensor(positions, device: device).view(rows, width),
                    tensor(mask, device: device).view(rows, 1, width, width));
                next = logits[.., -1].to_type(ScalarType.Float32).argmax(-1).cpu().data<long>().ToArray();
            }
            for (int i = 0; i < options.MaxNewTokens; i++)
            {
                for (int r = 0; r < rows; r++)
                {
                    if (done[r]) continue;
                    outputs[r].Add(next[r]);
                    done[r] = Stops(r, outputs[r]);
                }
                if (done.All(d => d) || i == options.MaxNewTokens - 1) break;
                using var scope = NewDisposeScope();
                int seen = width + i + 1;   // the prompts' width, the tokens fed back so far, and this one
                var keys = new bool[rows * seen];
                for (int r = 0; r < rows; r++) keys.AsSpan(r * seen + pad[r], seen - pad[r]).Fill(true);
                var step = prompts.Select(p => (long)(p.Count + i)).ToArray();
                var logits = batched.Forward(tensor(next, device: device).view(rows, 1), cache, tensor(step, device: device).view(rows, 1),
                    tensor(keys, device: device).view(rows, 1, 1, seen));
                next = logits[.., -1].to_type(ScalarType.Float32).argmax(-1).cpu().data<long>().ToArray();
            }
        }
        finally { network.train(wasTraining); }
        return outputs;
    }

    static void CheckPrompt(ILanguageModel model, IReadOnlyList<long> prompt, GenerationOptions options)
    {
        if (prompt.Count == 0) throw new ArgumentException("prompt must not be empty");
        if (prompt.Count + options.MaxNewTokens > model.MaxSequenceLength)
            throw new ArgumentException($"prompt ({prompt.Count}) + max_new_tokens ({options.MaxNewTokens}) exceeds the model's {model.MaxSequenceLength} positions");
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
