namespace Ziya2.Training.Data;

/// <summary>A tiny random generator whose whole state is one <see cref="ulong"/>, so a checkpoint can hold it exactly.</summary>
public sealed class SplitMix64(ulong state)
{
    public ulong State { get; private set; } = state;

    public ulong NextUInt64()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, n).</summary>
    public long NextInt64(long n) => (long)(NextUInt64() % (ulong)n);

    /// <summary>A seed derived from several values (source, epoch …), well mixed.</summary>
    public static ulong Derive(params ulong[] parts)
    {
        var g = new SplitMix64(0x5A17A2UL);
        ulong h = 0;
        foreach (var p in parts) { g.State ^= p; h ^= g.NextUInt64(); }
        return h;
    }
}
