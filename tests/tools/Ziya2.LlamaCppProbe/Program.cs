// Usage: Ziya2.LlamaCppProbe <model.gguf> <id,id,...>
// Prints {"n_vocab": V, "logits": [[...] per position]} computed by llama.cpp with flash attention off and an F32
// KV cache, the settings under which llama.cpp is an exact float32 reference (notes/llamacpp.md §4).
using System.Text.Json;
using LLama;
using LLama.Common;
using LLama.Native;

if (args.Length != 2) { Console.Error.WriteLine("usage: Ziya2.LlamaCppProbe <model.gguf> <id,id,...>"); return 2; }
var log = new List<string>();
NativeLibraryConfig.All.WithLogCallback((level, message) => { if (level >= LLamaLogLevel.Error) log.Add(message); });
var tokens = args[1].Split(',').Select(int.Parse).ToArray();
var parameters = new ModelParams(args[0])
{
    ContextSize = (uint)Math.Max(64, tokens.Length), BatchSize = (uint)Math.Max(64, tokens.Length), UBatchSize = (uint)Math.Max(64, tokens.Length),
    Threads = 1, BatchThreads = 1, GpuLayerCount = 0,
    TypeK = GGMLType.GGML_TYPE_F32, TypeV = GGMLType.GGML_TYPE_F32, FlashAttention = false,
};
try
{
    using var weights = LLamaWeights.LoadFromFile(parameters);
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
