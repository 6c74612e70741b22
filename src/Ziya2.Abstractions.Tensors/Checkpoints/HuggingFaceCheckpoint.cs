using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Ziya2.Models.Checkpoints;

/// <summary>
/// Hugging Face checkpoints for any <see cref="ILanguageModel"/>: <c>config.json</c> (the model's
/// <see cref="ILanguageModel.ConfigJson"/>) and <c>model.safetensors</c>, or shards <c>model-0000i-of-0000n.safetensors</c>
/// listed in <c>model.safetensors.index.json</c>, with the tensors under the model's
/// <see cref="ILanguageModel.NamedWeights"/> names. A model plugin implements the network; reading and writing its
/// checkpoints is done here, once, for every architecture.
/// </summary>
public static class HuggingFaceCheckpoint
{
    /// <summary>File names of the format.</summary>
    public const string IndexFile = "model.safetensors.index.json", SingleFile = "model.safetensors", ConfigFile = "config.json";

    /// <summary>Hugging Face's default shard size (5 GB).</summary>
    public const long DefaultMaxShardBytes = 5L << 30;

    /// <summary>Whether <paramref name="directory"/> looks like a checkpoint (has a config.json).</summary>
    public static bool IsCheckpoint(string directory) => File.Exists(Path.Combine(directory, ConfigFile));

    /// <summary>
    /// Reads <paramref name="directory"/> into <paramref name="model"/>: its config.json is checked against the model's
    /// architecture (<see cref="ILanguageModel.CheckConfig"/>), then every header, tensor name, shape and dtype before the
    /// first weight is written, so a bad checkpoint leaves the model untouched (<see cref="InvalidDataException"/> names
    /// the problem). Tensors are read one at a time: peak extra memory is one tensor, not a second copy of the model.
    /// </summary>
    public static void Load(ILanguageModel model, string directory)
    {
        var configPath = Path.Combine(directory, ConfigFile);
        if (!File.Exists(configPath)) throw new InvalidDataException($"{directory}: not a checkpoint (no {ConfigFile})");
        model.CheckConfig(File.ReadAllText(configPath), configPath);
        LoadWeights(model, directory);
    }

    /// <summary>Reads only the weights of <paramref name="directory"/> (a model built from that checkpoint's own config.json).</summary>
    public static void LoadWeights(ILanguageModel model, string directory)
    {
        var parameters = model.NamedWeights.ToDictionary(x => x.Name, x => x.Weight, StringComparer.Ordinal);
        var files = ShardFiles(directory);
        var entries = new Dictionary<string, (SafetensorsFile File, SafetensorsEntry Entry)>(StringComparer.Ordinal);
        foreach (var path in files)
        {
            var file = SafetensorsFile.Open(path);
            foreach (var (name, entry) in file.Entries)
                if (!entries.TryAdd(name, (file, entry))) throw new InvalidDataException($"{directory}: tensor '{name}' is stored in more than one shard");
        }
        var problems = new List<string>();
        foreach (var (name, p) in parameters)
        {
            if (!entries.TryGetValue(name, out var e)) { problems.Add($"missing tensor '{name}'"); continue; }
            if (!e.Entry.Shape.SequenceEqual(p.shape)) problems.Add($"tensor '{name}' has shape [{string.Join(", ", e.Entry.Shape)}], the model expects [{string.Join(", ", p.shape)}]");
        }
        foreach (var name in entries.Keys.Where(n => !parameters.ContainsKey(n) && !IsIgnorable(n)))
            problems.Add($"unexpected tensor '{name}'");
        if (problems.Count > 0) throw new InvalidDataException($"{directory}: checkpoint does not match the model: {string.Join("; ", problems.Take(20))}{(problems.Count > 20 ? $" (and {problems.Count - 20} more)" : "")}");

        using var _ = no_grad();
        foreach (var group in parameters.GroupBy(kv => entries[kv.Key].File))
        {
            using var stream = File.OpenRead(group.Key.Path);
            foreach (var (name, p) in group)
            {
                using var scope = NewDisposeScope();
                p.copy_(group.Key.Read(entries[name].Entry, stream));
            }
        }
    }

    /// <summary>Keys older HF checkpoints carry that hold no weights (recomputed from the config).</summary>
    static bool IsIgnorable(string name) => name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal);

    static IReadOnlyList<string> ShardFiles(string directory)
    {
        var index = Path.Combine(directory, IndexFile);
        if (File.Exists(index))
        {
            JsonNode? root;
            try { root = JsonNode.Parse(File.ReadAllText(index)); }
            catch (JsonException e) { throw new InvalidDataException($"{index}: {e.Message}"); }
            if (root is not JsonObject { } o || o["weight_map"] is not JsonObject weightMap) throw new InvalidDataException($"{index}: no weight_map");
            var files = weightMap.Select(kv => kv.Value is JsonValue v && v.TryGetValue<string>(out var f) ? f : "").Distinct().Order(StringComparer.Ordinal).ToList();
            foreach (var f in files)
                if (f.Length == 0 || Path.GetFileName(f) != f) throw new InvalidDataException($"{index}: shard name '{f}' must be a plain file name");
            var missing = files.Where(f => !File.Exists(Path.Combine(directory, f))).ToList();
            if (missing.Count > 0) throw new InvalidDataException($"{index}: shard(s) missing: {string.Join(", ", missing)}");
            return files.Select(f => Path.Combine(directory, f)).ToList();
        }
        var single = Path.Combine(directory, SingleFile);
        if (!File.Exists(single)) throw new InvalidDataException($"{directory}: no {SingleFile} or {IndexFile}");
        return [single];
    }

    /// <summary>
    /// Writes <paramref name="model"/> into <paramref name="directory"/> atomically (a temporary sibling folder renamed
    /// into place: complete or absent), tensors as <paramref name="dtype"/> (default: the weights' own), converted one
    /// shard at a time; shards split at <paramref name="maxShardBytes"/>.
    /// </summary>
    public static void Save(ILanguageModel model, string directory, ScalarType? dtype = null, long maxShardBytes = DefaultMaxShardBytes)
    {
        var tensors = model.NamedWeights;
        var type = dtype ?? tensors[0].Weight.dtype;
        if (type is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16)) throw new ArgumentException($"checkpoints store f32, f16 or bf16, not {type}");
        var full = Path.GetFullPath(directory);
        var tmp = $"{full}.tmp-{Environment.ProcessId}";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);

        var shards = new List<List<(string, Tensor)>> { new() };
        long current = 0, total = 0;
        foreach (var (name, t) in tensors)
        {
            long bytes = t.numel() * (type == ScalarType.Float32 ? 4 : 2);
            if (current > 0 && current + bytes > maxShardBytes) { shards.Add([]); current = 0; }
            shards[^1].Add((name, t));
            current += bytes; total += bytes;
        }
        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            var file = shards.Count == 1 ? SingleFile : $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            using var scope = NewDisposeScope();
            var converted = shards[i].Select(x => (x.Item1, x.Item2.dtype == type ? x.Item2.detach() : x.Item2.detach().to_type(type))).ToList();
            SafetensorsWriter.Write(Path.Combine(tmp, file), converted, new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var (name, _) in shards[i]) weightMap[name] = file;
        }
        if (shards.Count > 1)
            File.WriteAllText(Path.Combine(tmp, IndexFile), new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap }
                .ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(tmp, ConfigFile), model.ConfigJson);
        if (Directory.Exists(full)) Directory.Delete(full, recursive: true);
        Directory.Move(tmp, full);
    }
}
