using TorchSharp;
using Ziya2.Models;
using Ziya2.Plugins.Llama.Modules;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Llama;

/// <summary>Incremental decoding with a KV cache: greedy, or temperature + nucleus (top-p) sampling; stops on stop tokens.</summary>
static class Generation
{
    public static IReadOnlyList<long> Run(LlamaNetwork network, LlamaConfig config, IReadOnlyList<long> prompt, GenerationOptions o)
    {
        if (prompt.Count == 0) throw new ArgumentException("prompt must not be empty");
        if (prompt.Count + o.MaxNewTokens > config.MaxPositionEmbeddings)
            throw new ArgumentException($"prompt ({prompt.Count}) + max_new_tokens ({o.MaxNewTokens}) exceeds max_position_embeddings ({config.MaxPositionEmbeddings})");
        var device = network.parameters().First().device;
        var generator = new Generator((ulong)o.Seed, device);
        var output = new List<long>();
        bool wasTraining = network.training;
        network.eval();
        try
        {
            using var _ = no_grad();
            using var cache = new KvCache(network.LayerCount);
            var next = prompt.ToArray();
            for (int i = 0; i < o.MaxNewTokens; i++)
            {
                using var scope = NewDisposeScope();
                var logits = network.Run(tensor(next, device: device).unsqueeze(0), null, null, cache)[0, -1];
                long token = Pick(logits, o, generator);
                output.Add(token);
                if (o.StopTokens.Contains(token) || o.StopWhen?.Invoke(output) == true) break;
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
