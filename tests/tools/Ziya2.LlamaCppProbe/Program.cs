// Usage: Ziya2.LlamaCppProbe <model.gguf> <id,id,...>
//        Ziya2.LlamaCppProbe <model.gguf> --tokenize <text>     prints llama.cpp's ids for text (no bos) as JSON
// Prints {"n_vocab": V, "logits": [[...] per position]} computed by llama.cpp with flash attention off and an F32
// KV cache, the settings under which llama.cpp is an exact float32 reference (notes/llamacpp.md §4).
using System.Text.Json;
using LLama;
using LLama.Common;
using LLama.Native;

if (args.Length is not (2 or 3)) { Console.Error.WriteLine("usage: Ziya2.LlamaCppProbe <model.gguf> <id,id,...> | --tokenize <text>"); return 2; }
var log = new List<string>();
NativeLibraryConfig.All.WithLogCallback((level, message) => { if (level >= LLamaLogLevel.Error) log.Add(message); });
var tokenizeOnly = args.Length == 3 && args[1] == "--tokenize";
var tokens = tokenizeOnly ? [1] : args[1].Split(',').Select(int.Parse).ToArray();
var parameters = new ModelParams(args[0])
{
    ContextSize = (uint)Math.Max(64, tokens.Length), BatchSize = (uint)Math.Max(64, tokens.Length), UBatchSize = (uint)Math.Max(64, tokens.Length),
    Threads = 1, BatchThreads = 1, GpuLayerCount = 0,
    TypeK = GGMLType.GGML_TYPE_F32, TypeV = GGMLType.GGML_TYPE_F32, FlashAttention = false,
};
try
{
    using var weights = LLamaWeights.LoadFromFile(parameters);
    if (tokenizeOnly)
    {
        var ids = weights.Tokenize(args[2], false, false, System.Text.Encoding.UTF8).Select(t => (int)t).ToArray();
        Console.Out.Write(JsonSerializer.Serialize(ids));
        return 0;
    }
    using var context = weights.CreateContext(parameters);
    var batch = new LLamaBatch();
    for (int i = 0; i < tokens.Length; i++) batch.Add(tokens[i], i, LLamaSeqId.Zero, logits: true);
    if (context.NativeHandle.Decode(batch) != DecodeResult.Ok) throw new InvalidOperationException("llama_decode failed");
    var rows = Enumerable.Range(0, tokens.Length).Select(i => context.NativeHandle.GetLogitsIth(i).ToArray()).ToArray();
    Console.Out.Write(JsonSerializer.Serialize(new { n_vocab = weights.Vocab.Count, logits = rows }));
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"{e.GetType().Name}: {e.Message}");
    foreach (var line in log) Console.Error.Write(line);
    return 1;
}
