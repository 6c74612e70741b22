using ScottPlot;

namespace Ziya2.Scaling;

/// <summary>Figure 7 of the paper, from a fit: loss against data for each attribute at its lowest and highest observed value (the others at their means), with the samples.</summary>
public static class ScalingPlots
{
    static readonly (string Name, Func<ScalingSample, double> Get)[] Attributes =
        [("coherence", s => s.Coherence), ("readability", s => s.Readability), ("similarity", s => s.Similarity)];

    /// <summary>Writes <c>loss-vs-&lt;attribute&gt;.png</c> for the three attributes into <paramref name="directory"/>; returns the paths.</summary>
    public static IReadOnlyList<string> Write(string directory, IReadOnlyList<ScalingSample> samples, ScalingLaw law)
    {
        Directory.CreateDirectory(directory);
        double minV = Math.Max(1, samples.Where(s => s.Tokens > 0).Select(s => s.Tokens).DefaultIfEmpty(1e6).Min()), maxV = Math.Max(minV * 10, samples.Max(s => s.Tokens));
        var xs = Enumerable.Range(0, 60).Select(i => Math.Log10(minV) + i * (Math.Log10(maxV) - Math.Log10(minV)) / 59).ToArray();
        double mCh = samples.Average(s => s.Coherence), mRa = samples.Average(s => s.Readability), mSim = samples.Average(s => s.Similarity);
        var paths = new List<string>();
        foreach (var (name, get) in Attributes)
        {
            var plot = new Plot();
            var points = samples.Where(s => s.Tokens > 0).ToList();
            var scatter = plot.Add.ScatterPoints(points.Select(s => Math.Log10(s.Tokens)).ToArray(), points.Select(s => s.Loss).ToArray());
            scatter.LegendText = "samples";
            foreach (var value in new[] { samples.Min(get), samples.Max(get) }.Distinct())
            {
                var ys = xs.Select(x => law.Predict(Math.Pow(10, x), name == "coherence" ? value : mCh, name == "readability" ? value : mRa, name == "similarity" ? value : mSim)).ToArray();
                var line = plot.Add.ScatterLine(xs, ys);
                line.LegendText = $"{name} = {value:F3}";
                line.LineWidth = 2;
            }
            plot.Title($"Loss against data, by {name}");
            plot.XLabel("log10 tokens (V)");
            plot.YLabel("test loss");
            plot.ShowLegend(Alignment.UpperRight);
            var path = Path.Combine(directory, $"loss-vs-{name}.png");
            plot.SavePng(path + ".tmp", 800, 500);
            File.Move(path + ".tmp", path, overwrite: true);
            paths.Add(path);
        }
        return paths;
    }
}
