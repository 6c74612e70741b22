namespace Ziya2.Scaling.Tests;

public sealed class ScalingLawFitTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ziya2-scaling-").FullName;

    // The paper's experiment shape (§7): three stages' data (coherence and readability per stage, Table 4) against six
    // benchmarks (similarity per stage and benchmark, Table 5), each run checkpointed at several data volumes.
    static readonly double[] Coherence = [0.801, 0.653, 0.993], Readability = [0.917, 0.975, 0.916];
    static readonly double[,] Similarity =
    {
        { 0.6714, 0.7057, 0.7024, 0.6612, 0.6552, 0.5689 },
        { 0.6677, 0.7417, 0.7374, 0.6570, 0.6505, 0.5563 },
        { 0.6827, 0.6567, 0.6634, 0.7524, 0.7477, 0.6211 },
    };

    /// <summary>Samples from <paramref name="law"/> with multiplicative log-normal noise of <paramref name="sigma"/>.</summary>
    internal static List<ScalingSample> Synthetic(ScalingLaw law, double sigma, int seed, double[] volumes)
    {
        var rng = new Random(seed);
        var samples = new List<ScalingSample>();
        for (int stage = 0; stage < 3; stage++)
            for (int bench = 0; bench < 6; bench++)
                foreach (var v in volumes)
                {
                    double gauss = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                    double loss = law.Predict(v, Coherence[stage], Readability[stage], Similarity[stage, bench]) * Math.Exp(sigma * gauss);
                    samples.Add(new ScalingSample(v, Coherence[stage], Readability[stage], Similarity[stage, bench], loss));
                }
        return samples;
    }

    [Fact]
    public void Analytic_gradient_matches_finite_differences()
    {
        var data = new ScalingLawFit.Data(Synthetic(ScalingLaw.Paper, 0.01, 1, [1e9, 1e10, 1e11]));
        double[] theta = [Math.Log(0.1), Math.Log(0.2), Math.Log(1.0), Math.Log(1.5), Math.Log(0.5), Math.Log(3e10)];
        foreach (var delta in new[] { 1e-3, 1.0 })   // linear (Huber tails) and quadratic regimes
        {
            var gradient = new double[6];
            ScalingLawFit.Objective(data, theta, delta, gradient);
            for (int k = 0; k < 6; k++)
            {
                var plus = (double[])theta.Clone(); var minus = (double[])theta.Clone();
                plus[k] += 1e-6; minus[k] -= 1e-6;
                double numeric = (ScalingLawFit.Objective(data, plus, delta, null) - ScalingLawFit.Objective(data, minus, delta, null)) / 2e-6;
                Assert.True(Math.Abs(numeric - gradient[k]) <= 1e-5 * Math.Max(1, Math.Abs(numeric)), $"δ={delta}, θ{k}: analytic {gradient[k]}, numeric {numeric}");
            }
        }
    }

    [Fact]
    public void Recovers_the_papers_law_from_noisy_samples_over_a_wide_range_of_data()
    {
        // 18 runs × 5 volumes = 90 samples, 0.1 % noise. With data from 10^8 to 10^13 tokens the curve bends (D passes
        // F and the power law flattens towards E), which is what makes α, E and F separable.
        var samples = Synthetic(ScalingLaw.Paper, 1e-3, 7, [1e8, 1e9, 1e10, 1e11, 1e13]);
        var fit = ScalingLawFit.Fit(samples, new FitOptions { Grid = StartGrid.Coarse });
        var law = fit.Law;
        var truth = ScalingLaw.Paper;
        Assert.True(law.Alpha is > 0.054 and < 0.066, $"α: {law}");                 // ±10 %
        Assert.True(law.E is > 0.295 and < 0.325, $"E: {law}");                     // ±5 %
        // The absolute scale of D (A, B, C and F together) is the weakest direction: scaling all four by k moves the
        // D-term by k^−α ≈ 1 − α·ln k, which α and E absorb. What the samples pin down is their ratios …
        foreach (var (name, fitted, expected) in new[] { ("A/F", law.A / law.F, truth.A / truth.F), ("B/F", law.B / law.F, truth.B / truth.F), ("C/F", law.C / law.F, truth.C / truth.F) })
            Assert.True(fitted / expected is > 0.7 and < 1.3, $"{name} {fitted:G3} vs {expected:G3}; {law}");
        // … and the scale only within a factor of 2.
        foreach (var s in samples)
        {
            double ratio = law.EffectiveData(s.Tokens, s.Coherence, s.Readability, s.Similarity) / truth.EffectiveData(s.Tokens, s.Coherence, s.Readability, s.Similarity);
            Assert.True(ratio is > 0.5 and < 2, $"D ratio {ratio:F3} at V={s.Tokens:G3}; {law}");
        }
        var weak = fit.Identifiability.WeakestDirection;
        Assert.True(new[] { "A", "B", "C", "F" }.All(k => Math.Sign(weak[k]) == Math.Sign(weak["F"]) && Math.Abs(weak[k]) > 0.3),
            "weakest direction: " + string.Join(", ", weak.Select(kv => $"{kv.Key} {kv.Value:F2}")));
        Assert.True(fit.Quality.RmseLogLoss < 2e-3, $"RMSE {fit.Quality.RmseLogLoss}");
        Assert.True(fit.Quality.MaxRelativeError < 0.005);
        // The attribute matrix has full rank: the three attributes are distinguishable in principle.
        Assert.Equal(18, fit.Identifiability.DistinctAttributeRows);
        Assert.True(fit.Identifiability.AttributeSingularValues.Min() > 1e-3);
        var eigen = fit.Identifiability.CurvatureEigenvalues;
        Assert.True(eigen[^1] / Math.Max(eigen[0], 1e-300) > 1e3, string.Join(", ", eigen));   // badly conditioned, as the issue warned
    }

    [Fact]
    public void Csv_round_trips_with_extra_columns_and_names_bad_rows()
    {
        var path = Path.Combine(_dir, "samples.csv");
        var samples = Synthetic(ScalingLaw.Paper, 0, 1, [1e9]);
        ScalingSamples.Write(path, samples.Select((x, i) => (x, (IReadOnlyList<string>)[$"s{i / 6}"])), ["stage"]);
        Assert.Equal(samples, ScalingSamples.Read(path));
        Assert.StartsWith("tokens,coherence,readability,similarity,loss,stage", File.ReadLines(path).First());

        File.WriteAllText(path, "tokens,coherence,readability,loss\n1,0.5,0.5,1\n");
        Assert.Contains("lacks similarity", Assert.Throws<InvalidDataException>(() => ScalingSamples.Read(path)).Message);
        File.WriteAllText(path, "benchmark,tokens,coherence,readability,similarity,loss\nmmlu,1e9,0.8,0.9,0.7,2.1\ncmmlu,1e9,0.8,x,0.7,2.0\n");
        Assert.Contains(":3: column 'readability' is 'x'", Assert.Throws<InvalidDataException>(() => ScalingSamples.Read(path)).Message);
        File.WriteAllText(path, "tokens,coherence,readability,similarity,loss\n1e9,1.5,0.9,0.7,2.1\n");
        Assert.Contains("coherence 1.5 is outside [0, 1]", Assert.Throws<InvalidDataException>(() => ScalingSamples.Read(path)).Message);
    }

    [Fact]
    public void Paper_grid_is_the_papers_32768_starts_and_zeros_start_just_above_zero()
    {
        var starts = ScalingLawFit.Starts(StartGrid.Paper);
        Assert.Equal(32_768, starts.Count);
        Assert.All(starts, s => Assert.True(s.ToArray().All(v => v > 0)));
        Assert.Contains(starts, s => s.Alpha == 1e-3 && s.E == 1e-3 && s.A == 1e-3);
        Assert.DoesNotContain(starts, s => Math.Abs(s.F - 1.24e10) < 1e9);   // why the wide grid exists
        var wide = ScalingLawFit.Starts(StartGrid.Wide);
        Assert.Equal(32_768 + 4 * 3 * 27 * 3, wide.Count);
        Assert.Contains(wide, s => s.Alpha == 0.06 && s.F == 1e10);
    }

    [Fact]
    public void Plots_are_written_for_each_attribute()
    {
        var paths = ScalingPlots.Write(_dir, Synthetic(ScalingLaw.Paper, 1e-3, 2, [1e9, 1e10, 1e11]), ScalingLaw.Paper);
        Assert.Equal(["loss-vs-coherence.png", "loss-vs-readability.png", "loss-vs-similarity.png"], paths.Select(Path.GetFileName));
        Assert.All(paths, p => Assert.True(new FileInfo(p).Length > 2000));
    }

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }
}
