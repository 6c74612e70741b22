using Ziya2.Configuration;
using Ziya2.Kernel.Configuration;

namespace Ziya2.Kernel.Hosting;

/// <summary>
/// The recipe's view of configuration. Bindings found statically are bound (and checked) before the recipe runs
/// and served from here; any other path is bound on first use.
/// </summary>
public sealed class RecipeConfig(ConfigTree tree) : IRecipeConfig
{
    readonly Dictionary<(string Path, Type Type), object?> _bound = new();

    public ConfigTree Tree { get; } = tree;

    /// <summary>All bindings made so far, in order, for the resolved config written to the run directory.</summary>
    public IEnumerable<(string Path, object? Value)> Bound => _bound.Select(kv => (kv.Key.Path, kv.Value));

    /// <summary>Binds now, collecting errors instead of throwing (used before the run).</summary>
    public object? Prebind(string path, Type type, List<ConfigError> errors)
    {
        if (_bound.TryGetValue((path, type), out var existing)) return existing;
        var before = errors.Count;
        var value = new OptionsBinder(Tree).Bind(type, path, errors);
        if (errors.Count == before) _bound[(path, type)] = value;
        return value;
    }

    public object? Get(Type type, string path)
    {
        var errors = new List<ConfigError>();
        var value = Prebind(path, type, errors);
        if (errors.Count > 0) throw new ConfigException(errors);
        return value;
    }

    public T Get<T>(string path) => (T)Get(typeof(T), path)!;

    public bool Has(string path) => Tree.Find(path) is not null;

    public double? Number(string path) => Tree.Find(path) switch { long l => l, double d => d, _ => null };

    public string Toml(params string[] paths)
    {
        var document = new Tomlyn.Model.TomlTable();
        foreach (var path in paths)
        {
            if (Tree.Find(path) is not { } value) continue;
            var parts = path.Split('.');
            var table = document;
            foreach (var part in parts[..^1])
            {
                if (!table.TryGetValue(part, out var next) || next is not Tomlyn.Model.TomlTable t) table[part] = t = new Tomlyn.Model.TomlTable();
                table = t;
            }
            table[parts[^1]] = value;
        }
        return Tomlyn.TomlSerializer.Serialize(document);
    }

    public string Fingerprint(params string[] paths)
    {
        var text = new System.Text.StringBuilder();
        foreach (var path in paths)
            text.Append(path).Append('=').Append(Tree.Find(path) is { } value ? ConfigTree.Canonical(value) : "<absent>").Append('\n');
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())));
    }
}
