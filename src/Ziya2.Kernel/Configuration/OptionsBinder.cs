using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using Tomlyn.Model;
using Ziya2.Configuration;

namespace Ziya2.Kernel.Configuration;

/// <summary>
/// Binds TOML values to typed options by reflection: <c>snake_case</c> keys to <c>PascalCase</c> properties
/// (or <see cref="ConfigKeyAttribute"/>), with strict type checks. Collects every error instead of stopping at
/// the first, so <c>ziya2 validate</c> can report them together.
/// </summary>
public sealed class OptionsBinder(ConfigTree tree)
{
    /// <summary>
    /// Reserved in component sections: <c>use = "word-list"</c> in <c>[filters.advertising]</c> says which component the
    /// section configures (one filter, two pipeline steps). Options classes that declare no <c>Use</c> never see it.
    /// </summary>
    public const string UseKey = "use";

    /// <summary>Binds the value at <paramref name="path"/> to <paramref name="type"/>; errors go to <paramref name="errors"/>.</summary>
    public object? Bind(Type type, string path, List<ConfigError> errors)
    {
        tree.MarkConsumed(path);
        var value = tree.Find(path);
        if (value is null)
        {
            if (IsOptionsClass(type)) return BindTable(type, new TomlTable(), path, errors);
            if (Nullable.GetUnderlyingType(type) is not null || !type.IsValueType) return null;
            errors.Add(new ConfigError(path, $"required value of type {Describe(type)} is missing"));
            return null;
        }
        return Convert(value, type, path, errors);
    }

    /// <summary>Binds and throws <see cref="ConfigException"/> on any error.</summary>
    public T Bind<T>(string path)
    {
        var errors = new List<ConfigError>();
        var result = Bind(typeof(T), path, errors);
        if (errors.Count > 0) throw new ConfigException(errors);
        return (T)result!;
    }

    object? Convert(object value, Type type, string path, List<ConfigError> errors)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        void Mismatch() => errors.Add(new ConfigError(path, $"expected {Describe(target)}, got {ConfigTree.Show(value)}", tree.OriginOf(path)));
        try
        {
            switch (value)
            {
                case string s when target == typeof(string): return s;
                case string s when target.IsEnum:
                    var match = Enum.GetNames(target).FirstOrDefault(n => string.Equals(ToSnake(n), s, StringComparison.OrdinalIgnoreCase) || string.Equals(n, s, StringComparison.OrdinalIgnoreCase));
                    if (match is null) { errors.Add(new ConfigError(path, $"expected one of {string.Join(", ", Enum.GetNames(target).Select(ToSnake))}, got \"{s}\"", tree.OriginOf(path))); return null; }
                    return Enum.Parse(target, match);
                case bool b when target == typeof(bool): return b;
                case long l when target == typeof(long): return l;
                case long l when target == typeof(int): return checked((int)l);
                case long l when target == typeof(double): return (double)l;
                case long l when target == typeof(float): return (float)l;
                case double d when target == typeof(double): return d;
                case double d when target == typeof(float): return (float)d;
                case TomlTable t when IsOptionsClass(target): return BindTable(target, t, path, errors);
                case TomlTable t when DictionaryValueType(target) is { } vt:
                    var dict = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), vt))!;
                    foreach (var (k, v) in t) dict[k] = Convert(v, vt, path + "." + k, errors);
                    return dict;
                case TomlArray or TomlTableArray when ElementType(target) is { } et:
                    var items = ((IEnumerable)value).Cast<object>().Select((v, i) => Convert(v, et, $"{path}[{i}]", errors)).ToList();
                    var array = Array.CreateInstance(et, items.Count);
                    for (int i = 0; i < items.Count; i++) array.SetValue(items[i], i);
                    if (target.IsArray) return array;
                    var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(et))!;
                    foreach (var item in array) list.Add(item);
                    return list;
            }
        }
        catch (OverflowException)
        {
            errors.Add(new ConfigError(path, $"{ConfigTree.Show(value)} does not fit in {Describe(target)}", tree.OriginOf(path)));
            return null;
        }
        Mismatch();
        return null;
    }

    object BindTable(Type type, TomlTable table, string path, List<ConfigError> errors)
    {
        var instance = Activator.CreateInstance(type)!;
        var properties = BindableProperties(type);
        foreach (var (key, value) in table)
        {
            var keyPath = path.Length == 0 ? key : path + "." + key;
            if (!properties.TryGetValue(key, out var property))
            {
                if (key == UseKey) continue;   // names the component the section configures; read by whoever resolves it

                var hint = properties.Keys.OrderBy(k => Distance(k, key)).FirstOrDefault(k => Distance(k, key) <= 2);
                errors.Add(new ConfigError(keyPath, $"unknown key for {type.Name}{(hint is null ? "" : $" (did you mean '{hint}'?)")}; valid keys: {string.Join(", ", properties.Keys)}", tree.OriginOf(keyPath)));
                continue;
            }
            var bound = Convert(value, property.PropertyType, keyPath, errors);
            if (bound is not null) property.SetValue(instance, bound);
        }
        foreach (var (key, property) in properties)
            if (property.GetCustomAttribute<ConfigRequiredAttribute>() is not null && !table.ContainsKey(key))
                errors.Add(new ConfigError(path.Length == 0 ? key : path + "." + key, "required key is missing"));
        if (instance is IValidatableOptions v)
            foreach (var message in v.Validate())
                errors.Add(new ConfigError(path, message, tree.OriginOf(path)));
        return instance;
    }

    /// <summary>Turns bound options back into TOML (defaults included) for the run directory's resolved config.</summary>
    public static object? ToToml(object? value) => value switch
    {
        null => null,
        string or bool or long or double => value,
        int i => (long)i,
        float f => (double)f,
        Enum e => ToSnake(e.ToString()),
        IDictionary d => ToTable(d.Keys.Cast<object>().Select(k => (k.ToString()!, d[k]))),
        IEnumerable e => ToArray(e),
        _ when IsOptionsClass(value.GetType()) => ToTable(BindableProperties(value.GetType()).Select(kv => (kv.Key, kv.Value.GetValue(value)))),
        _ => value.ToString(),
    };

    static TomlTable ToTable(IEnumerable<(string Key, object? Value)> entries)
    {
        var table = new TomlTable();
        foreach (var (k, v) in entries) if (ToToml(v) is { } t) table[k] = t;
        return table;
    }

    static TomlArray ToArray(IEnumerable items)
    {
        var array = new TomlArray();
        foreach (var item in items) if (ToToml(item) is { } t) array.Add(t);
        return array;
    }

    internal static Dictionary<string, PropertyInfo> BindableProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic && p.GetIndexParameters().Length == 0)
            .ToDictionary(p => p.GetCustomAttribute<ConfigKeyAttribute>()?.Key ?? ToSnake(p.Name), StringComparer.Ordinal);

    static bool IsOptionsClass(Type t) =>
        t.IsClass && t != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null;

    static Type? ElementType(Type t) =>
        t.IsArray ? t.GetElementType()
        : t.IsGenericType && t.GetGenericTypeDefinition() is var g && (g == typeof(List<>) || g == typeof(IList<>) || g == typeof(IReadOnlyList<>) || g == typeof(IEnumerable<>) || g == typeof(IReadOnlyCollection<>))
            ? t.GetGenericArguments()[0] : null;

    static Type? DictionaryValueType(Type t) =>
        t.IsGenericType && t.GetGenericArguments() is [var k, var v] && k == typeof(string)
        && (t.GetGenericTypeDefinition() == typeof(Dictionary<,>) || t.GetGenericTypeDefinition() == typeof(IDictionary<,>) || t.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))
            ? v : null;

    static string Describe(Type t) =>
        t == typeof(int) ? "integer (32-bit)" : t == typeof(long) ? "integer" : t == typeof(double) || t == typeof(float) ? "float"
        : t == typeof(bool) ? "boolean" : t == typeof(string) ? "string" : t.IsEnum ? $"one of {string.Join(", ", Enum.GetNames(t).Select(ToSnake))}"
        : ElementType(t) is { } e ? $"array of {Describe(e)}" : $"table ({t.Name})";

    /// <summary><c>WarmupFraction</c> → <c>warmup_fraction</c>; <c>LRMin</c> → <c>lr_min</c>.</summary>
    public static string ToSnake(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool boundary = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1])));
                if (boundary) sb.Append('_');
                sb.Append(char.ToLower(c, CultureInfo.InvariantCulture));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
