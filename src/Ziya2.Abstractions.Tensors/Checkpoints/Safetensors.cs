using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Ziya2.Models.Checkpoints;

/// <summary>One tensor's entry in a safetensors header.</summary>
sealed record SafetensorsEntry(string Name, string Dtype, long[] Shape, long Begin, long End, string File)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// Reads safetensors files defensively: the header is bounded, parsed strictly and checked against the file
/// (dtype known, byte length = elements × dtype size, offsets inside the data section, no two tensors overlapping)
/// before any tensor is read, so a corrupt or hostile file is refused with a message naming the problem and never
/// makes us allocate more than the file holds.
/// </summary>
sealed class SafetensorsFile
{
    /// <summary>Largest accepted header (the format's reference implementation uses 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public static readonly IReadOnlyDictionary<string, (ScalarType Type, int Size)> Dtypes = new Dictionary<string, (ScalarType, int)>
    {
        ["F32"] = (ScalarType.Float32, 4), ["F16"] = (ScalarType.Float16, 2), ["BF16"] = (ScalarType.BFloat16, 2),
    };

    SafetensorsFile(string path, long dataStart, IReadOnlyDictionary<string, SafetensorsEntry> entries, IReadOnlyDictionary<string, string> metadata)
    { Path = path; DataStart = dataStart; Entries = entries; Metadata = metadata; }

    public string Path { get; }
    public long DataStart { get; }
    public IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafetensorsFile Open(string path)
    {
        using var stream = File.OpenRead(path);
        long length = stream.Length;
        InvalidDataException Bad(string why) => new($"{path}: {why}");
        if (length < 8) throw Bad("file too short for a safetensors header");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes) throw Bad($"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        if ((long)headerLength > length - 8) throw Bad($"header length {headerLength} runs past the end of the file ({length} bytes)");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength, dataLength = length - dataStart;

        // JSON's reader accepts invalid UTF-8 inside strings and throws only when a name is read; refuse it here.
        if (!System.Text.Unicode.Utf8.IsValid(header)) throw Bad("header is not valid UTF-8");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw Bad($"header is not valid JSON: {e.Message}"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad("header is not a JSON object");
            var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>();
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    // The format's metadata is a map of strings to strings.
                    if (property.Value.ValueKind != JsonValueKind.Object) throw Bad("__metadata__ must be an object of strings");
                    foreach (var m in property.Value.EnumerateObject()) metadata[m.Name] = m.Value.ToString();
                    continue;
                }
                var e = property.Value;
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("dtype", out var dt) || !e.TryGetProperty("shape", out var sh) || !e.TryGetProperty("data_offsets", out var off)
                    || sh.ValueKind != JsonValueKind.Array || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
                    throw Bad($"tensor '{property.Name}': entry needs dtype, shape and two data_offsets");
                if (dt.ValueKind != JsonValueKind.String) throw Bad($"tensor '{property.Name}': dtype must be a string (found {dt.ValueKind})");
                var dtype = dt.GetString()!;
                if (!Dtypes.TryGetValue(dtype, out var info)) throw Bad($"tensor '{property.Name}': unsupported dtype '{dtype}' (supported: {string.Join(", ", Dtypes.Keys)})");
                long[] shape;
                long begin, end;
                try
                {
                    shape = sh.EnumerateArray().Select(x => x.GetInt64()).ToArray();
                    begin = off[0].GetInt64(); end = off[1].GetInt64();
                }
                catch (Exception x) when (x is FormatException or InvalidOperationException) { throw Bad($"tensor '{property.Name}': shape and offsets must be integers"); }
                if (shape.Any(d => d < 0)) throw Bad($"tensor '{property.Name}': negative dimension");
                long elements;
                try { elements = shape.Aggregate(1L, (a, b) => checked(a * b)); }
                catch (OverflowException) { throw Bad($"tensor '{property.Name}': shape overflows"); }
                if (begin < 0 || end < begin || end > dataLength) throw Bad($"tensor '{property.Name}': data_offsets [{begin}, {end}] outside the {dataLength}-byte data section");
                if (end - begin != elements * info.Size) throw Bad($"tensor '{property.Name}': {end - begin} bytes for {elements} {dtype} elements (expected {elements * info.Size})");
                if (!entries.TryAdd(property.Name, new SafetensorsEntry(property.Name, dtype, shape, begin, end, path))) throw Bad($"tensor '{property.Name}' appears twice");
            }
            var ordered = entries.Values.Where(x => x.End > x.Begin).OrderBy(x => x.Begin).ToList();
            for (int i = 1; i < ordered.Count; i++)
                if (ordered[i].Begin < ordered[i - 1].End) throw Bad($"tensors '{ordered[i - 1].Name}' and '{ordered[i].Name}' overlap");
            return new SafetensorsFile(path, dataStart, entries, metadata);
        }
    }

    /// <summary>Reads one tensor (already validated) into a new CPU tensor of its stored dtype.</summary>
    public Tensor Read(SafetensorsEntry entry, FileStream stream)
    {
        var t = empty(entry.Shape, Dtypes[entry.Dtype].Type);
        stream.Position = DataStart + entry.Begin;
        TensorBytes.ReadInto(stream, t, entry.End - entry.Begin);
        return t;
    }
}

/// <summary>Writes safetensors files (header sorted by name, 8-byte aligned, tensors contiguous in that order).</summary>
static class SafetensorsWriter
{
    public static readonly IReadOnlyDictionary<ScalarType, string> Names = new Dictionary<ScalarType, string>
    {
        [ScalarType.Float32] = "F32", [ScalarType.Float16] = "F16", [ScalarType.BFloat16] = "BF16",
    };

    public static void Write(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var sorted = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>();
        if (metadata is not null) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var (name, t) in sorted)
        {
            long bytes = t.numel() * t.ElementSize;
            header[name] = new { dtype = Names[t.dtype], shape = t.shape, data_offsets = new[] { offset, offset + bytes } };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padding = (8 - json.Length % 8) % 8;
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        Span<byte> lengthBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)(json.Length + padding));
        stream.Write(lengthBytes);
        stream.Write(json);
        for (int i = 0; i < padding; i++) stream.WriteByte((byte)' ');
        foreach (var (_, t) in sorted) TensorBytes.WriteFrom(stream, t);
    }
}

/// <summary>
/// Moves raw bytes between streams and contiguous CPU tensors, for checkpoint formats (safetensors, GGUF).
/// <c>Tensor.bytes</c> is a span over the tensor's own memory, so nothing is staged in a second buffer.
/// </summary>
public static class TensorBytes
{
    /// <summary>Fills <paramref name="t"/> (contiguous, on the CPU) with exactly <paramref name="count"/> bytes read from <paramref name="stream"/>.</summary>
    public static void ReadInto(Stream stream, Tensor t, long count)
    {
        if (!t.is_contiguous() || t.device_type != DeviceType.CPU) throw new ArgumentException("tensor must be contiguous on the CPU");
        var span = t.bytes;
        if (span.Length != count) throw new InvalidDataException($"expected {span.Length} bytes, header says {count}");
        stream.ReadExactly(span);
    }

    /// <summary>Writes <paramref name="t"/>'s elements to <paramref name="stream"/> (copied to the CPU first when elsewhere or strided).</summary>
    public static void WriteFrom(Stream stream, Tensor t)
    {
        using var c = t.device_type == DeviceType.CPU && t.is_contiguous() ? t.alias() : t.cpu().contiguous();
        stream.Write(c.bytes);
    }
}
