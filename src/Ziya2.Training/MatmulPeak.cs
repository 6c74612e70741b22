using System.Diagnostics;
using static TorchSharp.torch;

namespace Ziya2.Training;

/// <summary>The device's dense matmul throughput, measured: the denominator of MFU when no peak is configured (on CPU, what the model can at best reach).</summary>
public static class MatmulPeak
{
    /// <summary>FLOP/s of an n×n matmul in <paramref name="dtype"/>, best of a few timed repetitions after a warm-up.</summary>
    public static double Measure(int n = 1024, ScalarType dtype = ScalarType.Float32, Device? device = null, int repetitions = 5)
    {
        using var scope = NewDisposeScope();
        var a = randn(n, n, dtype: dtype, device: device);
        var b = randn(n, n, dtype: dtype, device: device);
        a.matmul(b).sum().item<float>();   // warm-up (and the thread pool)
        double best = 0;
        for (int r = 0; r < repetitions; r++)
        {
            var clock = Stopwatch.StartNew();
            a.matmul(b).sum().item<float>();
            best = Math.Max(best, 2.0 * n * n * n / clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}
