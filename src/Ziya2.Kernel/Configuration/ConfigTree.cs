using System.Globalization;
using Tomlyn;
using Tomlyn.Model;

namespace Ziya2.Kernel.Configuration;

/// <summary>
/// The merged configuration document: TOML files in order, then <c>--set</c> overrides. Remembers where each
/// leaf came from (for messages) and which keys a binding consumed (so the rest can be reported as unknown).
/// </summary>
public sealed class ConfigTree
{
    readonly Dictionary<string, string> _origins = new(StringComparer.Ordinal);
    readonly HashSet<string> _consumed = new(StringComparer.Ordinal);

    public TomlTable Root { get; } = new();

    /// <summary>The top-level key that layers other files beneath the one that names them.</summary>
    public const string IncludeKey = "include";

    /// <summary>
    /// Reads files and overrides; every syntax error of every input is collected before throwing. A file's top-level
    /// <c>include = ["a.toml", …]</c> (paths relative to that file) merges those files first, in order, so the file
    /// itself overrides what it includes: a recipe config includes the shared pipeline definitions and changes a few keys.
    /// </summary>
    public static ConfigTree Load(IEnumerable<string> files, IEnumerable<string> overrides)
    {
        var tree = new ConfigTree();
        var errors = new List<ConfigError>();
        foreach (var file in files) tree.MergeFile(file, [], errors);
        foreach (var o in overrides)
        {
            try { tree.Set(o); }
            catch (ConfigException e) { errors.AddRange(e.Errors); }
        }
        if (errors.Count > 0) throw new ConfigException(errors);
        return tree;
    }

    void MergeFile(string file, List<string> including, List<ConfigError> errors)
    {
        var full = Path.GetFullPath(file);
        static string Shown(string path) => Path.GetRelativePath(Environment.CurrentDirectory, path);
        var display = including.Count == 0 ? file : Shown(full);
        if (!File.Exists(full)) { errors.Add(new ConfigError("", "config file not found", including.Count == 0 ? file : $"{display} (included by {Shown(including[^1])})")); return; }
        if (including.Contains(full, StringComparer.Ordinal))
        {
            errors.Add(new ConfigError(IncludeKey, $"files include each other: {string.Join(" → ", including.Append(full).Select(Shown))}", Shown(including[^1])));
            return;
        }
        TomlTable table;
        try { table = Parse(File.ReadAllText(full), display); }
        catch (ConfigException e) { errors.AddRange(e.Errors); return; }
        if (table.Remove(IncludeKey, out var include))
        {
            if (include is not TomlArray paths || paths.Any(x => x is not string))
                errors.Add(new ConfigError(IncludeKey, $"expected an array of file paths, got {Show(include)}", display));
            else
                foreach (var path in paths.Cast<string>())
                    MergeFile(Path.Combine(Path.GetDirectoryName(full)!, path), [.. including, full], errors);
        }
        Merge(table, display);
    }

    /// <summary>Parses TOML text; syntax errors become <c>file:line:col</c> messages.</summary>
    public static TomlTable Parse(string text, string sourceName)
    {
        try
        {
            return TomlSerializer.Deserialize<TomlTable>(text, new TomlSerializerOptions { SourceName = sourceName }) ?? new TomlTable();
        }
        catch (TomlException e)
        {
            var where = e.Line is { } l ? $"{sourceName}:{l}:{e.Column ?? 0}" : sourceName;
            throw new ConfigException([new ConfigError("", StripLocation(e.Message), where)]);
        }
    }

    static string StripLocation(string message)
    {
        // Tomlyn prefixes "file(line,col) : error : "; we print our own file:line:col.
        var i = message.IndexOf(" : error : ", StringComparison.Ordinal);
        return i >= 0 ? message[(i + " : error : ".Length)..] : message;
    }

    /// <summary>
    /// A copy of this document with <paramref name="assignments"/> (<c>a.b=value</c>, as <c>--set</c> reads them) applied:
    /// the run's own tree is left as it is, so settings a recipe tries (the quality gate's tightenings) cannot leak into
    /// other bindings. Origins are kept; the copy's consumed keys are its own.
    /// </summary>
    public ConfigTree With(IEnumerable<string> assignments)
    {
        var copy = new ConfigTree();
        foreach (var (key, value) in Root) copy.Root[key] = Clone(value);
        foreach (var (path, origin) in _origins) copy._origins[path] = origin;
        foreach (var assignment in assignments) copy.Set(assignment);
        return copy;
    }

    static object Clone(object value) => value switch
    {
        TomlTable t => t.Aggregate(new TomlTable(), (c, kv) => { c[kv.Key] = Clone(kv.Value); return c; }),
        TomlTableArray a => a.Aggregate(new TomlTableArray(), (c, t) => { c.Add((TomlTable)Clone(t)); return c; }),
        TomlArray a => a.Aggregate(new TomlArray(), (c, v) => { c.Add(v is null ? null : Clone(v)); return c; }),
        _ => value,
    };

    /// <summary>Deep-merges <paramref name="table"/> over the current document.</summary>
    public void Merge(TomlTable table, string origin) => MergeInto(Root, table, "", origin);

    void MergeInto(TomlTable target, TomlTable source, string prefix, string origin)
    {
        foreach (var (key, value) in source)
        {
            var path = prefix.Length == 0 ? key : prefix + "." + key;
            if (value is TomlTable sub && target.TryGetValue(key, out var existing) && existing is TomlTable existingTable)
                MergeInto(existingTable, sub, path, origin);
            else
            {
                target[key] = value;
                ForgetOrigins(path);
                RecordOrigins(value, path, origin);
            }
        }
    }

    void RecordOrigins(object value, string path, string origin)
    {
        if (value is TomlTable t) foreach (var (k, v) in t) RecordOrigins(v, path + "." + k, origin);
        else _origins[path] = origin;
    }

    void ForgetOrigins(string path)
    {
        foreach (var k in _origins.Keys.Where(k => k == path || k.StartsWith(path + ".", StringComparison.Ordinal)).ToList()) _origins.Remove(k);
    }

    /// <summary>
    /// Applies <c>a.b.c=value</c>. The value is read as a TOML value (<c>3</c>, <c>0.1</c>, <c>true</c>, <c>"x"</c>,
    /// <c>[1, 2]</c>); anything that is not valid TOML is taken as a plain string, so <c>model.name=llama</c> works.
    /// An element of an array of tables is named by its index or its <c>name</c> key: <c>regime.stages.general.steps=40</c>.
    /// Types are checked when the key is bound.
    /// </summary>
    public void Set(string assignment)
    {
        var origin = $"--set {assignment}";
        var eq = assignment.IndexOf('=');
        if (eq <= 0) throw new ConfigException([new ConfigError(assignment, "expected key=value", "--set")]);
        var path = assignment[..eq].Trim();
        var raw = assignment[(eq + 1)..].Trim();
        var parts = path.Split('.');
        if (parts.Any(p => p.Length == 0)) throw new ConfigException([new ConfigError(path, "empty key segment", origin)]);

        object value;
        try { value = TomlSerializer.Deserialize<TomlTable>("v = " + raw)!["v"]; }
        catch (TomlException) { value = raw; }

        var table = Root;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            if (!table.TryGetValue(parts[i], out var next)) { next = new TomlTable(); table[parts[i]] = next; }
            // An array of tables ([[regime.stages]]) is entered through one element: its 0-based index or its name.
            if (next is TomlTableArray array && i + 1 < parts.Length - 1)
            {
                var selector = parts[++i];
                next = (int.TryParse(selector, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < array.Count ? array[index] : null)
                    ?? array.FirstOrDefault(e => e.TryGetValue("name", out var n) && n as string == selector)
                    ?? throw new ConfigException([new ConfigError(path, $"'{string.Join('.', parts[..i])}' has no element '{selector}' (an index below {array.Count} or the name of one: " +
                                                                        $"{string.Join(", ", array.Select(e => e.TryGetValue("name", out var n) ? n as string : null).OfType<string>())})", origin)]);
            }
            if (next is not TomlTable t)
                throw new ConfigException([new ConfigError(path, $"'{string.Join('.', parts[..(i + 1)])}' is a value, not a table", origin)]);
            table = t;
        }
        table[parts[^1]] = value;
        ForgetOrigins(path);
        RecordOrigins(value, path, origin);
    }

    /// <summary>The value at a dotted path, or null.</summary>
    public object? Find(string path)
    {
        object current = Root;
        foreach (var part in path.Split('.'))
        {
            if (current is not TomlTable t || !t.TryGetValue(part, out var next)) return null;
            current = next;
        }
        return current;
    }

    /// <summary>Where the value at <paramref name="path"/> (or the first leaf below it) came from.</summary>
    public string? OriginOf(string path) =>
        _origins.TryGetValue(path, out var o) ? o : _origins.Where(kv => kv.Key.StartsWith(path + ".", StringComparison.Ordinal)).Select(kv => kv.Value).FirstOrDefault();

    /// <summary>Marks a path (and everything below it) as used by a binding.</summary>
    public void MarkConsumed(string path) => _consumed.Add(path);

    /// <summary>Leaf keys no binding consumed.</summary>
    public IEnumerable<string> UnconsumedLeaves() =>
        _origins.Keys.Where(k => !IsConsumed(k)).Order(StringComparer.Ordinal);

    bool IsConsumed(string path)
    {
        for (var p = path; ; )
        {
            if (_consumed.Contains(p)) return true;
            var dot = p.LastIndexOf('.');
            if (dot < 0) return false;
            p = p[..dot];
        }
    }

    /// <summary>A canonical text of a value: tables with keys sorted, so equal settings give equal text whatever the file order.</summary>
    public static string Canonical(object? value) => value switch
    {
        TomlTable t => "{" + string.Join(",", t.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}:{Canonical(kv.Value)}")) + "}",
        TomlArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        TomlTableArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        string s => System.Text.Json.JsonSerializer.Serialize(s),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        null => "null",
        _ => value.ToString() ?? "",
    };

    /// <summary>Formats a scalar the way a user wrote it, for messages.</summary>
    public static string Show(object? value) => value switch
    {
        null => "nothing",
        string s => $"string \"{s}\"",
        bool b => $"boolean {(b ? "true" : "false")}",
        long l => $"integer {l.ToString(CultureInfo.InvariantCulture)}",
        double d => $"float {d.ToString("R", CultureInfo.InvariantCulture)}",
        TomlTable => "a table",
        TomlArray or TomlTableArray => "an array",
        _ => value.GetType().Name,
    };
}
