using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Ziya2.Kernel.Configuration;
using Ziya2.Kernel.Hosting;
using Ziya2.Kernel.Plugins;
using Ziya2.Models;
using Ziya2.Plugins;
using Ziya2.Tokenization;
using static TorchSharp.torch;
using Ziya2.Models.Checkpoints;

namespace Ziya2.Cli;

/// <summary>
/// <c>ziya2 model info|score|generate|export &lt;checkpoint&gt;</c>. The model component is chosen by the checkpoint's
/// <c>config.json</c> <c>model_type</c> and built with <c>checkpoint = &lt;dir&gt;</c>; <c>--set key=value</c> adds
/// options (e.g. <c>precision=bf16_mixed</c>).
/// </summary>
/// <summary>A model opened from a checkpoint, and its tokenizer if the checkpoint has one (opened on first use).</summary>
sealed record ModelContext(ILanguageModel Model, string Directory, Func<ITokenizer?> Tokenizer);

static class ModelCommands
{
    public static Command Create(Option<string[]> plugins, Option<LogLevel> logLevel)
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "Hugging Face checkpoint directory (config.json + safetensors)" };
        var set = new Option<string[]>("--set") { Description = "Model option key=value (e.g. precision=bf16_mixed); repeatable", Arity = ArgumentArity.ZeroOrMore };
        var json = new Option<bool>("--json") { Description = "Machine-readable output" };
        var ids = new Option<string?>("--ids") { Description = "Comma-separated token ids" };
        var text = new Option<string?>("--text") { Description = "Text to tokenize with the checkpoint's tokenizer" };

        var seq = new Option<int?>("--seq-len") { Description = "Sequence length for FLOPs/token (default: max_position_embeddings)" };
        var info = new Command("info", "Configuration, parameter count and training FLOPs/token") { checkpoint, set, json, seq, plugins, logLevel };
        info.SetAction(r => Run(r, checkpoint, set, plugins, logLevel, (m, o) =>
        {
            var model = m.Model;
            var t = r.GetValue(seq) ?? model.MaxSequenceLength;
            var result = new JsonObject
            {
                ["architecture"] = model.Architecture, ["parameters"] = model.ParameterCount, ["sequence_length"] = t,
                ["training_flops_per_token"] = model.TrainingFlopsPerToken(t), ["config"] = JsonNode.Parse(model.ConfigJson),
            };
            if (r.GetValue(json)) o.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            else
            {
                o.WriteLine($"architecture      {model.Architecture}");
                o.WriteLine($"parameters        {model.ParameterCount:N0}");
                o.WriteLine($"FLOPs/token       {model.TrainingFlopsPerToken(t):E3} (training, T={t})");
                o.WriteLine(model.ConfigJson);
            }
            return ExitCodes.Ok;
        }));

        var topK = new Option<int>("--top-k") { Description = "Top logits to show per position", DefaultValueFactory = _ => 5 };
        var score = new Command("score", "Per-position log-probabilities of the given tokens and the top-k logits") { checkpoint, ids, text, topK, set, json, plugins, logLevel };
        score.SetAction(r => Run(r, checkpoint, set, plugins, logLevel, (m, o) =>
        {
            var model = m.Model;
            var tokens = Tokens(m, r.GetValue(ids), r.GetValue(text));
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            model.Module.eval();
            var logits = model.Forward(tensor(tokens).unsqueeze(0))[0];
            var logProbs = logits.log_softmax(-1);
            var k = Math.Min(r.GetValue(topK), model.VocabSize);
            var (topValues, topIds) = logits.topk(k, dim: -1);
            var positions = new JsonArray();
            for (int i = 0; i < tokens.Length; i++)
            {
                var top = new JsonArray();
                for (int j = 0; j < k; j++) top.Add(new JsonObject { ["id"] = topIds[i, j].item<long>(), ["logit"] = topValues[i, j].item<float>() });
                positions.Add(new JsonObject
                {
                    ["position"] = i, ["token"] = tokens[i],
                    // log p(token_i | tokens_<i): the previous position's distribution; none for the first token.
                    ["logprob"] = i == 0 ? null : logProbs[i - 1, tokens[i]].item<float>(),
                    ["top"] = top,
                });
            }
            if (r.GetValue(json)) o.WriteLine(new JsonObject { ["tokens"] = new JsonArray(tokens.Select(t => (JsonNode)t).ToArray()), ["positions"] = positions }.ToJsonString());
            else
                foreach (var p in positions)
                    o.WriteLine($"{p!["position"],4} token {p["token"],7}  logprob {(p["logprob"] is null ? "      -" : p["logprob"]!.GetValue<float>().ToString("F4", CultureInfo.InvariantCulture)),9}  top: " +
                                string.Join("  ", p["top"]!.AsArray().Select(x => $"{x!["id"]}:{x["logit"]!.GetValue<float>().ToString("F3", CultureInfo.InvariantCulture)}")));
            return ExitCodes.Ok;
        }));

        var maxNew = new Option<int>("--max-new-tokens") { DefaultValueFactory = _ => 32 };
        var temperature = new Option<double>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 0.0 };
        var topP = new Option<double>("--top-p") { DefaultValueFactory = _ => 1.0 };
        var stop = new Option<string?>("--stop") { Description = "Comma-separated stop token ids (default: eos)" };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 1234 };
        var generate = new Command("generate", "Continue a prompt with the KV cache") { checkpoint, ids, text, maxNew, temperature, topP, stop, seed, set, json, plugins, logLevel };
        generate.SetAction(r => Run(r, checkpoint, set, plugins, logLevel, (m, o) =>
        {
            var model = m.Model;
            var prompt = Tokens(m, r.GetValue(ids), r.GetValue(text));
            var eos = JsonNode.Parse(model.ConfigJson)?["eos_token_id"]?.GetValue<long>();
            var stops = r.GetValue(stop) is { } s ? ParseIds(s) : eos is { } e ? [e] : [];
            var output = TextGeneration.Generate(model, prompt, new GenerationOptions
            {
                MaxNewTokens = r.GetValue(maxNew), Temperature = r.GetValue(temperature), TopP = r.GetValue(topP), StopTokens = stops, Seed = r.GetValue(seed),
            });
            var decoded = r.GetValue(text) is not null ? m.Tokenizer()!.Decode(output.Select(x => (int)x).ToList()) : null;
            o.WriteLine(r.GetValue(json) ? JsonSerializer.Serialize(new { prompt, generated = output, text = decoded }) : decoded ?? string.Join(",", output));
            return ExitCodes.Ok;
        }));

        var format = new Option<string>("--format") { Description = "hf or gguf", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "f32, f16 or bf16", DefaultValueFactory = _ => "f32" };
        var output = new Option<string>("--out") { Description = "Output directory (hf) or file (gguf)", Required = true };
        var export = new Command("export", "Write the checkpoint as Hugging Face safetensors or GGUF (llama.cpp)") { checkpoint, format, dtype, output, set, plugins, logLevel };
        export.SetAction(r => Run(r, checkpoint, set, plugins, logLevel, (m, o) =>
        {
            ModelExport.Write(m.Model, r.GetValue(format)!, r.GetValue(output)!, r.GetValue(dtype)!, r.GetValue(format) == "gguf" ? m.Tokenizer() : null);
            if (r.GetValue(format) == "hf")   // a Hugging Face directory carries its tokenizer
                foreach (var f in new[] { "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json" })
                    if (File.Exists(Path.Combine(m.Directory, f))) File.Copy(Path.Combine(m.Directory, f), Path.Combine(r.GetValue(output)!, f), overwrite: true);
            o.WriteLine($"wrote {r.GetValue(output)} ({r.GetValue(format)}, {r.GetValue(dtype)})");
            return ExitCodes.Ok;
        }));

        var architecture = new Option<string>("--architecture") { Description = "Model component", DefaultValueFactory = _ => "llama" };
        var tokenizerFile = new Option<string?>("--tokenizer") { Description = "tokenizer.model to copy into the checkpoint" };
        var init = new Command("init", "Write a randomly initialised checkpoint (options via --set, e.g. preset=tiny)") { architecture, set, tokenizerFile, output, plugins, logLevel };
        init.SetAction(r =>
        {
            using var loggers = Logging.Create(LogFormat.Text, r.GetValue(logLevel));
            return InvalidInput.Guard(() =>
            {
                var (component, lifetime) = new Ziya2Host(loggers, Console.Out, Console.Error).CreateComponent(TensorComponentKinds.Model, r.GetValue(architecture)!, "model",
                    (r.GetValue(set) ?? []).Select(x => "model." + x).ToList(), r.GetValue(plugins) ?? []);
                using (lifetime)
                {
                    var model = (ILanguageModel)component;
                    if (r.GetValue(tokenizerFile) is { } tok)
                    {
                        using var t = TokenizerCommands.Open(loggers, tok, r.GetValue(plugins) ?? []);
                        if (t.Tokenizer.VocabSize > model.VocabSize) throw new ArgumentException($"the tokenizer has {t.Tokenizer.VocabSize} pieces but the model {model.VocabSize} rows");
                    }
                    HuggingFaceCheckpoint.Save(model, r.GetValue(output)!);
                    if (r.GetValue(tokenizerFile) is { } file)
                        File.Copy(Directory.Exists(file) ? Path.Combine(file, "tokenizer.model") : file, Path.Combine(r.GetValue(output)!, "tokenizer.model"), overwrite: true);
                    Console.Out.WriteLine($"wrote {r.GetValue(output)} ({model.ParameterCount:N0} parameters)");
                    return ExitCodes.Ok;
                }
            });
        });

        return new Command("model", "Create, inspect, score, generate with, export and benchmark models") { init, info, score, generate, export, ModelBenchmark.Create(plugins, logLevel) };
    }

    internal static int Run(ParseResult r, Argument<string> checkpoint, Option<string[]> set, Option<string[]> plugins, Option<LogLevel> logLevel, Func<ModelContext, TextWriter, int> body)
    {
        using var loggers = Logging.Create(LogFormat.Text, r.GetValue(logLevel));
        return InvalidInput.Guard(() =>
        {
            var dir = CheckpointDirectory(r.GetValue(checkpoint)!);
            var configPath = Path.Combine(dir, "config.json");
            string? architecture;
            try { architecture = JsonNode.Parse(File.ReadAllText(configPath))?["model_type"]?.GetValue<string>() ?? "llama"; }
            catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new InvalidDataException($"{configPath}: not a readable config.json ({e.Message})", e); }
            var overrides = (r.GetValue(set) ?? []).Select(s => "model." + s).Prepend(Overrides.Text("model.checkpoint", dir)).ToList();
            var (component, lifetime) = new Ziya2Host(loggers, Console.Out, Console.Error).CreateComponent(TensorComponentKinds.Model, architecture, "model", overrides, r.GetValue(plugins) ?? []);
            using (lifetime)
            {
                TokenizerCommands.OpenTokenizer? tokenizer = null;
                try
                {
                    var context = new ModelContext((ILanguageModel)component, dir, () =>
                        File.Exists(Path.Combine(dir, "tokenizer.model")) ? (tokenizer ??= TokenizerCommands.Open(loggers, dir, r.GetValue(plugins) ?? [])).Tokenizer : null);
                    return body(context, Console.Out);
                }
                finally { tokenizer?.Dispose(); }
            }
        });
    }

    /// <summary>
    /// The directory holding the model's <c>config.json</c>: <paramref name="path"/> itself (a Hugging Face checkpoint or
    /// export), or its <c>model/</c> (a training checkpoint, as a run prints it: <c>…/checkpoints/math-final</c>).
    /// </summary>
    internal static string CheckpointDirectory(string path)
    {
        var dir = Path.GetFullPath(path);
        if (File.Exists(Path.Combine(dir, "config.json"))) return dir;
        if (File.Exists(Path.Combine(dir, "model", "config.json"))) return Path.Combine(dir, "model");
        throw new InvalidDataException(Directory.Exists(dir)
            ? $"{dir}: not a checkpoint (no config.json here, nor in model/ as a training checkpoint has it)"
            : $"{dir}: no such checkpoint directory");
    }

    /// <summary>Ids from <c>--ids</c>, or <c>--text</c> encoded with the checkpoint's tokenizer (bos prepended, as HF LLaMA does).</summary>
    static long[] Tokens(ModelContext m, string? ids, string? text)
    {
        if (ids is not null && text is not null) throw new ArgumentException("give --ids or --text, not both");
        if (text is not null)
            return (m.Tokenizer() ?? throw new ArgumentException("--text needs a tokenizer.model beside the checkpoint's config.json (runs write one into their checkpoints and exports); pass --ids"))
                .Encode(text, addBos: true).Select(i => (long)i).ToArray();
        if (ids is null) throw new ArgumentException("give --ids or --text");
        return ParseIds(ids);
    }

    static long[] ParseIds(string s) =>
        s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
}
