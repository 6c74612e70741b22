using Ziya2.Models;
using Ziya2.Plugins.Llama;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Tests.Llama;

public class GenerationTests
{
    [Fact]
    public void Greedy_decoding_with_the_kv_cache_equals_recomputing_the_whole_prefix()
    {
        using var model = new LlamaModel(TinyModels.Options());
        var prompt = new long[] { 4, 8, 15, 16, 23 };
        var cached = TextGeneration.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 12 });
        var sequence = prompt.ToList();
        using (no_grad())
            for (int i = 0; i < 12; i++)
            {
                using var scope = NewDisposeScope();
                sequence.Add(model.Forward(tensor(sequence.ToArray()).unsqueeze(0))[0, -1].argmax().item<long>());
            }
        Assert.Equal(sequence.Skip(prompt.Length), cached);
    }

    [Fact]
    public void Sampling_is_reproducible_per_seed_and_stops_at_stop_tokens()
    {
        using var model = new LlamaModel(TinyModels.Options());
        var o = new GenerationOptions { MaxNewTokens = 20, Temperature = 1.5, TopP = 0.9, Seed = 3 };
        var a = TextGeneration.Generate(model, [1, 2, 3], o);
        Assert.Equal(a, TextGeneration.Generate(model, [1, 2, 3], o));
        Assert.NotEqual(a, TextGeneration.Generate(model, [1, 2, 3], o with { Seed = 4 }));
        var stopped = TextGeneration.Generate(model, [1, 2, 3], o with { StopTokens = [a[2]] });
        Assert.Equal(a.Take(stopped.Count), stopped);
        Assert.Equal(a[2], stopped[^1]);
        Assert.True(stopped.Count <= 3);
    }

    [Fact]
    public void Tiny_top_p_keeps_only_the_most_likely_token()
    {
        using var model = new LlamaModel(TinyModels.Options());
        var greedy = TextGeneration.Generate(model, [9, 9, 9], new GenerationOptions { MaxNewTokens = 8 });
        Assert.Equal(greedy, TextGeneration.Generate(model, [9, 9, 9], new GenerationOptions { MaxNewTokens = 8, Temperature = 1.0, TopP = 1e-6 }));
    }
}
