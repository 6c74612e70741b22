using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Llama.Checkpoints;

/// <summary>Our parameter names ↔ Hugging Face <c>transformers</c> names.</summary>
static class HfNames
{
    public static string ToHf(string name) => name.StartsWith("lm_head.", StringComparison.Ordinal) ? name : "model." + name;

    /// <summary>Keys older HF checkpoints carry that hold no weights (recomputed from the config).</summary>
    public static bool IsIgnorable(string hfName) => hfName.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal);
}

/// <summary>
/// Hugging Face LLaMA checkpoints: <c>config.json</c> + <c>model.safetensors</c>, or shards
/// <c>model-0000i-of-0000n.safetensors</c> listed in <c>model.safetensors.index.json</c>.
/// </summary>
static class HfCheckpoint
{
    public const string IndexFile = "model.safetensors.index.json", SingleFile = "model.safetensors", ConfigFile = "config.json";

    /// <summary>
    /// Loads weights into <paramref name="parameters"/> (HF name → live parameter). Every header, key, shape and dtype
    /// is checked before the first weight is written, so a bad checkpoint leaves the model untouched. Tensors are read
    /// one at a time: peak extra memory is one tensor, not a second copy of the model.
    /// </summary>
    public static void Load(string directory, IReadOnlyDictionary<string, Tensor> parameters)
    {
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
        foreach (var name in entries.Keys.Where(n => !parameters.ContainsKey(n) && !HfNames.IsIgnorable(n)))
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

    static IReadOnlyList<string> ShardFiles(string directory)
    {
        var index = Path.Combine(directory, IndexFile);
        if (File.Exists(index))
        {
            JsonNode? map;
            try { map = JsonNode.Parse(File.ReadAllText(index))?["weight_map"]; }
            catch (JsonException e) { throw new InvalidDataException($"{index}: {e.Message}"); }
            if (map is not JsonObject weightMap) throw new InvalidDataException($"{index}: no weight_map");
            var files = weightMap.Select(kv => kv.Value?.GetValue<string>() ?? "").Distinct().Order(StringComparer.Ordinal).ToList();
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
    /// Writes a checkpoint atomically (into a temporary sibling folder renamed into place). Tensors are converted to
    /// <paramref name="dtype"/> one shard at a time; shards split at <paramref name="maxShardBytes"/>.
    /// </summary>
    public static void Save(string directory, string configJson, IReadOnlyList<(string HfName, Tensor Tensor)> tensors, ScalarType dtype, long maxShardBytes)
    {
        var full = Path.GetFullPath(directory);
        var tmp = $"{full}.tmp-{Environment.ProcessId}";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);

        var shards = new List<List<(string, Tensor)>> { new() };
        long current = 0, total = 0;
        foreach (var (name, t) in tensors)
        {
            long bytes = t.numel() * ElementSize(dtype);
            if (current > 0 && current + bytes > maxShardBytes) { shards.Add([]); current = 0; }
            shards[^1].Add((name, t));
            current += bytes; total += bytes;
        }
        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            var file = shards.Count == 1 ? SingleFile : $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            using var scope = NewDisposeScope();
            var converted = shards[i].Select(x => (x.Item1, x.Item2.dtype == dtype ? x.Item2.detach() : x.Item2.detach().to_type(dtype))).ToList();
            SafetensorsWriter.Write(Path.Combine(tmp, file), converted, new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var (name, _) in shards[i]) weightMap[name] = file;
        }
        if (shards.Count > 1)
            File.WriteAllText(Path.Combine(tmp, IndexFile), new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap }
                .ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(tmp, ConfigFile), configJson);
        if (Directory.Exists(full)) Directory.Delete(full, recursive: true);
        Directory.Move(tmp, full);
    }

    static int ElementSize(ScalarType t) => t == ScalarType.Float32 ? 4 : 2;
}
