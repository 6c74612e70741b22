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

    [Fact]
    public void Linear_constant_and_wsd_follow_their_shapes()
    {
        var linear = new LinearWithWarmup(new LinearOptions { Lr = 1e-3, MinLr = 1e-4, WarmupSteps = 10 });
        linear.Configure(110);
        Assert.Equal(1e-4, linear.GetLearningRate(0), 12);
        Assert.Equal(1e-3, linear.GetLearningRate(10), 12);
        Assert.Equal(1e-3 + (1e-4 - 1e-3) * 50 / 99.0, linear.GetLearningRate(60), 12);   // halfway along the line
        Assert.Equal(1e-4, linear.GetLearningRate(109), 12);

        var constant = new ConstantWithWarmup(new ConstantOptions { Lr = 2e-4 });
        constant.Configure(50);
        Assert.All(Enumerable.Range(0, 50), t => Assert.Equal(2e-4, constant.GetLearningRate(t)));

        var wsd = new WarmupStableDecay(new WsdOptions { Lr = 1e-3, MinLr = 0, WarmupSteps = 10, DecayFraction = 0.2 });
        wsd.Configure(110);                                   // 100 steps after warmup: 80 stable, 20 decaying
        Assert.Equal(1e-3, wsd.GetLearningRate(10), 12);
        Assert.Equal(1e-3, wsd.GetLearningRate(89), 12);      // last stable step
        Assert.Equal(1e-3, wsd.GetLearningRate(90), 12);      // decay starts at the peak
        Assert.True(wsd.GetLearningRate(100) < 1e-3);
        Assert.Equal(0, wsd.GetLearningRate(109), 12);
        var cosineTail = new WarmupStableDecay(new WsdOptions { Lr = 1e-3, MinLr = 0, WarmupSteps = 0, DecayFraction = 0.5, DecayShape = DecayShape.Cosine });
        cosineTail.Configure(101);
        Assert.Equal(0.5e-3, cosineTail.GetLearningRate(50 + 25), 9);   // half-way through a 51-step cosine tail

        var restored = new WarmupStableDecay(new WsdOptions());
        Assert.Throws<InvalidDataException>(() => restored.LoadState(linear.SaveState()));
        Assert.Contains(new WsdOptions { DecayFraction = 2 }.Validate(), m => m.Contains("decay_fraction"));
    }
}
