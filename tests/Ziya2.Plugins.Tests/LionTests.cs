using Ziya2.Models;
using Ziya2.Plugins.Optimizers;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Tests;

/// <summary>Optimizers against their update rules computed by hand; Lion's exact state round trip.</summary>
public class LionTests
{
    [Fact]
    public void AdamW_matches_its_update_rule_computed_by_hand()
    {
        var p = new TorchSharp.Modules.Parameter(tensor(new double[] { 1.0, -2.0 }));
        var q = new TorchSharp.Modules.Parameter(tensor(new double[] { 0.5 }));
        var o = new AdamWOptions { Lr = 0.01, Beta1 = 0.9, Beta2 = 0.95, Eps = 1e-8, WeightDecay = 0.1 };
        using var opt = new AdamWFactory(o).Create([new ParameterGroup("decay", [p], true), new ParameterGroup("no_decay", [q], false)]);
        double[][] grads = [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.05]];
        double[] w = [1.0, -2.0, 0.5], m = new double[3], v = new double[3];
        for (int t = 1; t <= grads.Length; t++)
        {
            opt.ZeroGrad();
            p.grad = tensor(grads[t - 1]);
            q.grad = tensor(new[] { grads[t - 1][0] });
            opt.Step();
            double[] g = [grads[t - 1][0], grads[t - 1][1], grads[t - 1][0]];
            for (int i = 0; i < 3; i++)
            {
                if (i < 2) w[i] *= 1 - 0.01 * 0.1;                                  // decoupled decay, decay group only
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.95 * v[i] + 0.05 * g[i] * g[i];
                double mHat = m[i] / (1 - Math.Pow(0.9, t)), vHat = v[i] / (1 - Math.Pow(0.95, t));
                w[i] -= 0.01 * mHat / (Math.Sqrt(vHat) + 1e-8);
            }
        }
        var got = p.data<double>().ToArray();
        Assert.Equal(w[0], got[0], 10);
        Assert.Equal(w[1], got[1], 10);
        Assert.Equal(w[2], q.data<double>()[0], 10);
    }

    [Fact]
    public void Two_steps_match_the_update_rule_computed_by_hand()
    {
        var p = new TorchSharp.Modules.Parameter(tensor(new float[] { 1f, -2f, 0.5f }));
        var q = new TorchSharp.Modules.Parameter(tensor(new float[] { 3f }));   // a "no decay" group
        var o = new LionOptions { Lr = 0.1, Beta1 = 0.9, Beta2 = 0.99, WeightDecay = 0.5 };
        using var opt = new LionFactory(o).Create([new ParameterGroup("decay", [p], true), new ParameterGroup("no_decay", [q], false)]);
        float[] g1 = [0.2f, -0.1f, 0f], g2 = [-0.3f, 0.4f, 0.1f];
        double[] m = [0, 0, 0], w = [1, -2, 0.5];
        double mq = 0, wq = 3;
        foreach (var g in new[] { g1, g2 })
        {
            opt.ZeroGrad();
            p.grad = tensor(g);
            q.grad = tensor(new float[] { g[0] });
            opt.Step();
            for (int i = 0; i < 3; i++)
            {
                double c = 0.9 * m[i] + 0.1 * g[i];
                w[i] = w[i] * (1 - 0.1 * 0.5) - 0.1 * Math.Sign(c);
                m[i] = 0.99 * m[i] + 0.01 * g[i];
            }
            double cq = 0.9 * mq + 0.1 * g[0];
            wq -= 0.1 * Math.Sign(cq);
            mq = 0.99 * mq + 0.01 * g[0];
        }
        var got = p.data<float>().ToArray();
        for (int i = 0; i < 3; i++) Assert.Equal(w[i], got[i], 5);
        Assert.Equal(wq, q.data<float>()[0], 5);   // excluded from weight decay
    }

    [Fact]
    public void State_round_trips_exactly_and_a_foreign_state_is_refused()
    {
        var dir = Directory.CreateTempSubdirectory("ziya2-lion-").FullName;
        try
        {
            var p = new TorchSharp.Modules.Parameter(randn(4, 4, generator: new Generator(1)));
            using var opt = new LionFactory(new LionOptions { Lr = 0.01 }).Create([new ParameterGroup("all", [p], true)]);
            var g = randn(4, 4, generator: new Generator(2));
            void Step() { opt.ZeroGrad(); p.grad = g.clone(); opt.Step(); }
            Step(); Step();
            opt.SaveState(Path.Combine(dir, "lion.bin"));
            var saved = p.detach().clone();
            Step();
            var reference = p.detach().clone();
            using (no_grad()) p.copy_(saved);
            opt.LoadState(Path.Combine(dir, "lion.bin"));
            Step();
            Assert.True(p.detach().equal(reference).all().item<bool>());

            File.WriteAllText(Path.Combine(dir, "bad.bin"), "not a state");
            Assert.ThrowsAny<Exception>(() => opt.LoadState(Path.Combine(dir, "bad.bin")));
            Assert.Throws<FileNotFoundException>(() => opt.LoadState(Path.Combine(dir, "missing.bin")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
