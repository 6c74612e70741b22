using Ziya2.Optimization;
using Ziya2.Plugins.Schedulers;

namespace Ziya2.Plugins.Tests;

public class SchedulerTests
{
    [Fact]
    public void Cosine_warms_up_linearly_peaks_and_ends_at_the_floor()
    {
        var s = new CosineWithWarmup(new CosineOptions { Lr = 1e-4, MinLr = 1e-5, WarmupFraction = 0.01 });
        s.Configure(1000);
        Assert.Equal(1e-5, s.GetLearningRate(0), 12);          // 1/10 of the 10 warmup steps
        Assert.Equal(1e-4, s.GetLearningRate(9), 12);          // end of warmup: peak
        Assert.Equal(1e-4, s.GetLearningRate(10), 12);         // decay starts at the peak
        Assert.Equal(5.5e-5, s.GetLearningRate(10 + 989 / 2), 6);
        Assert.Equal(1e-5, s.GetLearningRate(999), 12);        // floor exactly at the last step
        for (long t = 11; t < 1000; t++) Assert.True(s.GetLearningRate(t) <= s.GetLearningRate(t - 1));
    }

    [Fact]
    public void State_round_trip_continues_identically()
    {
        var a = new CosineWithWarmup(new CosineOptions());
        a.Configure(500);
        a.GetLearningRate(123);
        var b = new CosineWithWarmup(new CosineOptions());
        b.LoadState(a.SaveState());
        Assert.Equal(a.GetLearningRate(124), b.GetLearningRate(124));
        Assert.Throws<InvalidDataException>(() => b.LoadState(new SchedulerState("linear", 10, 1)));
    }
}
