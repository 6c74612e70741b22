using Ziya2.Models;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Llama.Modules;

/// <summary>
/// Keys and values of past positions per layer, for incremental decoding. Tensors live outside dispose scopes
/// (they must survive between steps) and are freed by <see cref="Dispose"/>.
/// </summary>
sealed class KvCache(int layers) : IDecodingCache
{
    readonly Tensor?[] _keys = new Tensor?[layers], _values = new Tensor?[layers];

    /// <summary>Number of cached positions.</summary>
    public long Length { get; private set; }

    /// <summary>Appends this step's k/v for <paramref name="layer"/> and returns the full k/v (owned by the cache).</summary>
    public (Tensor K, Tensor V) Append(int layer, Tensor k, Tensor v)
    {
        var oldK = _keys[layer]; var oldV = _values[layer];
        var newK = (oldK is null ? k.clone() : cat([oldK, k], 2)).DetachFromDisposeScope();
        var newV = (oldV is null ? v.clone() : cat([oldV, v], 2)).DetachFromDisposeScope();
        oldK?.Dispose(); oldV?.Dispose();
        _keys[layer] = newK; _values[layer] = newV;
        if (layer == layers - 1) Length = newK.shape[2];
        return (newK, newV);
    }

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values)) t?.Dispose();
        Array.Clear(_keys); Array.Clear(_values);
    }
}
