using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace Ziya2.Scaling;

/// <summary>Which starting points the fit tries.</summary>
public enum StartGrid
{
    /// <summary>The paper's grid (§7): α, E ∈ {0, 0.67, 1.33, 2}; A, B, C ∈ {0, 2/7, …, 2}; F ∈ {1, 1.67, 2.33, 3}·10¹² — 32,768 starts.</summary>
    Paper,
    /// <summary>The paper's grid plus 972 starts where it cannot reach the paper's own fit: α {0.03, 0.06, 0.1, 0.3} × E {0.1, 0.3, 1} × A, B, C {0.25, 1, 2} × F {10⁹, 10¹⁰, 10¹¹}.</summary>
    Wide,
    /// <summary>A coarse grid for quick looks and tests: α {0.03, 0.3, 1}, E {0.1, 1}, A, B, C {0.2, 2}, F {10¹⁰, 10¹²} — 96 starts.</summary>
    Coarse,
}

/// <summary>How the law is fitted.</summary>
public sealed class FitOptions
{
    /// <summary>Huber threshold on the log-loss residual (paper: 1e-3).</summary>
    public double Delta { get; set; } = 1e-3;
    public StartGrid Grid { get; set; } = StartGrid.Wide;
    public int MaxIterations { get; set; } = 400;
    public int Parallelism { get; set; } = Environment.ProcessorCount;
}

/// <summary>How well the law describes the samples.</summary>
public sealed record FitQuality(double Objective, double RmseLogLoss, double MaxRelativeError, double RSquared);

/// <summary>
/// What the data can and cannot pin down. <see cref="AttributeSingularValues"/>: of the samples' [CH, RA, SIM] matrix
/// (a near-zero one means A, B, C cannot be told apart). <see cref="CurvatureEigenvalues"/>: of the Gauss–Newton matrix
/// JᵀJ of the log-loss residuals in log-parameter space at the optimum, smallest first, with the parameter loadings of
/// the least-determined direction. <see cref="NearOptimalRanges"/>: each parameter's range over starts that ended
/// within 0.1 % of the best objective.
/// </summary>
public sealed record Identifiability(
    int DistinctAttributeRows, double[] AttributeSingularValues, double[] CurvatureEigenvalues,
    IReadOnlyDictionary<string, double> WeakestDirection, IReadOnlyDictionary<string, (double Min, double Max)> NearOptimalRanges, int NearOptimalStarts);

public sealed record FitResult(ScalingLaw Law, FitQuality Quality, Identifiability Identifiability, int Starts, int Samples);

/// <summary>
/// Fits <see cref="ScalingLaw"/> as the paper does (§7, Eq. 5): minimise Σ Huber_δ(LSE(−α·log Dᵢ, log E) − log Lᵢ) with
/// L-BFGS from a grid of starts and keep the best. Choices where the paper is unclear or ill-posed:
/// <list type="bullet">
/// <item>Eq. 5 prints LSE(1 − α·log D, e); that multiplies the D-term by e and contradicts Eq. 3. We fit −α·log D.</item>
/// <item>F is fitted too (it is learnable in the text but missing from Eq. 5's subscript).</item>
/// <item>All six parameters are positive, and the problem is badly scaled (V ~ 10¹¹, α ~ 0.06), so the optimiser works
/// on their logarithms; a grid value of 0 starts at 10⁻³ instead (log 0 is undefined; E = 0 makes e = log E −∞).</item>
/// </list>
/// Gradients are analytic.
/// </summary>
public static class ScalingLawFit
{
    const int P = 6;   // α, E, A, B, C, F

    public static IReadOnlyList<ScalingLaw> Starts(StartGrid grid)
    {
        static double Positive(double v) => v > 0 ? v : 1e-3;
        static IEnumerable<ScalingLaw> Grid(double[] alpha, double[] e, double[] abc, double[] f) =>
            from a in alpha from ee in e from x in abc from y in abc from z in abc from ff in f
            select new ScalingLaw(Positive(a), Positive(ee), Positive(x), Positive(y), Positive(z), ff);
        if (grid == StartGrid.Coarse) return Grid([0.03, 0.3, 1], [0.1, 1], [0.2, 2], [1e10, 1e12]).ToList();
        var paper = Grid([0, 0.67, 1.33, 2], [0, 0.67, 1.33, 2], Enumerable.Range(0, 8).Select(i => 2.0 * i / 7).ToArray(), [1e12, 1.67e12, 2.33e12, 3e12]);
        if (grid == StartGrid.Paper) return paper.ToList();
        // Wide: the paper's grid plus the region it misses — small α and F of 10⁹–10¹¹ (where the paper's own fit lies).
        return paper.Concat(Grid([0.03, 0.06, 0.1, 0.3], [0.1, 0.3, 1], [0.25, 1, 2], [1e9, 1e10, 1e11])).ToList();
    }

    public static FitResult Fit(IReadOnlyList<ScalingSample> samples, FitOptions? options = null)
    {
        options ??= new FitOptions();
        if (!(options.Delta > 0)) throw new ArgumentException("the Huber threshold δ must be > 0");
        if (samples.Count < P) throw new ArgumentException($"{samples.Count} samples cannot determine {P} parameters");
        var data = new Data(samples);
        var starts = Starts(options.Grid);
        var results = new (double Objective, double[] Theta)[starts.Count];
        Parallel.For(0, starts.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism) }, i =>
            results[i] = Minimise(data, options, starts[i].ToArray().Select(v => Math.Log(v)).ToArray()));

        var best = results.MinBy(r => r.Objective);
        if (!double.IsFinite(best.Objective)) throw new InvalidOperationException($"no start reached a finite objective ({starts.Count} tried); check the samples' scale");
        var law = ScalingLaw.FromArray(best.Theta.Select(v => Math.Exp(v)).ToArray());
        var near = results.Where(r => r.Objective <= best.Objective * 1.001 + 1e-15).ToList();
        var ranges = Enumerable.Range(0, P).ToDictionary(k => ScalingLaw.Names[k], k => (near.Min(r => Math.Exp(r.Theta[k])), near.Max(r => Math.Exp(r.Theta[k]))));
        return new FitResult(law, Quality(samples, law, best.Objective), Identify(data, best.Theta, ranges, near.Count), starts.Count, samples.Count);
    }

    /// <summary>L-BFGS from one start; the best point seen is kept even when the line search gives up (Huber's kinks make it do so).</summary>
    static (double, double[]) Minimise(Data data, FitOptions options, double[] start)
    {
        double bestValue = double.PositiveInfinity;
        double[] bestTheta = start;
        var gradient = new double[P];
        var objective = ObjectiveFunction.Gradient(v =>
        {
            var theta = v.ToArray();
            double value = Objective(data, theta, options.Delta, gradient);
            if (value < bestValue) { bestValue = value; bestTheta = theta; }
            return (value, Vector<double>.Build.DenseOfArray((double[])gradient.Clone()));
        });
        try { new LimitedMemoryBfgsMinimizer(1e-12, 1e-12, 1e-15, 10, options.MaxIterations).FindMinimum(objective, Vector<double>.Build.DenseOfArray(start)); }
        catch (Exception e) when (e is MaximumIterationsException or InnerOptimizationException or EvaluationException or ArgumentException or ArithmeticException) { }
        return (bestValue, bestTheta);
    }

    /// <summary>Σ Huber_δ(rᵢ), rᵢ = log(Dᵢ^−α + E) − log Lᵢ, with its gradient in θ = log(α, E, A, B, C, F).</summary>
    internal static double Objective(Data data, double[] theta, double delta, double[]? gradient)
    {
        double alpha = Math.Exp(theta[0]), E = Math.Exp(theta[1]), A = Math.Exp(theta[2]), B = Math.Exp(theta[3]), C = Math.Exp(theta[4]), F = Math.Exp(theta[5]);
        if (gradient is not null) Array.Clear(gradient);
        double sum = 0;
        for (int i = 0; i < data.Count; i++)
        {
            double d = (A * data.Ch[i] + B * data.Ra[i] + C * data.Sim[i]) * data.V[i] + F;
            double logD = Math.Log(d);
            double u = -alpha * logD;
            // LSE(u, e) computed stably.
            double m = Math.Max(u, theta[1]);
            double lse = m + Math.Log(Math.Exp(u - m) + Math.Exp(theta[1] - m));
            double r = lse - data.LogL[i];
            if (!double.IsFinite(r))
            {
                // exp(θ) overflowed far from any sensible fit: report "uphill" so the line search steps back.
                if (gradient is not null) Array.Clear(gradient);
                return double.PositiveInfinity;
            }
            double a = Math.Abs(r);
            sum += a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
            if (gradient is null) continue;
            double h = a <= delta ? r : delta * Math.Sign(r);          // Huber'(r)
            double p = Math.Exp(u - lse);                              // ∂lse/∂u; ∂lse/∂e = 1 − p
            double du_dD = -alpha / d;
            gradient[0] += h * p * (-logD) * alpha;                    // ∂/∂log α = α·∂/∂α
            gradient[1] += h * (1 - p);                                // e = log E is θ₁ itself
            gradient[2] += h * p * du_dD * data.Ch[i] * data.V[i] * A;
            gradient[3] += h * p * du_dD * data.Ra[i] * data.V[i] * B;
            gradient[4] += h * p * du_dD * data.Sim[i] * data.V[i] * C;
            gradient[5] += h * p * du_dD * F;
        }
        return sum;
    }

    static FitQuality Quality(IReadOnlyList<ScalingSample> samples, ScalingLaw law, double objective)
    {
        double mean = samples.Average(s => s.Loss), ssTot = samples.Sum(s => Math.Pow(s.Loss - mean, 2));
        double ssRes = samples.Sum(s => Math.Pow(s.Loss - law.Predict(s), 2));
        double rmse = Math.Sqrt(samples.Average(s => Math.Pow(Math.Log(law.Predict(s)) - Math.Log(s.Loss), 2)));
        double maxRel = samples.Max(s => Math.Abs(law.Predict(s) - s.Loss) / s.Loss);
        return new FitQuality(objective, rmse, maxRel, ssTot > 0 ? 1 - ssRes / ssTot : double.NaN);
    }

    static Identifiability Identify(Data data, double[] theta, IReadOnlyDictionary<string, (double, double)> ranges, int nearCount)
    {
        var x = Matrix<double>.Build.Dense(data.Count, 3, (i, j) => j == 0 ? data.Ch[i] : j == 1 ? data.Ra[i] : data.Sim[i]);
        var singular = x.Svd(computeVectors: false).S.ToArray();
        int distinct = Enumerable.Range(0, data.Count).Select(i => (data.Ch[i], data.Ra[i], data.Sim[i])).Distinct().Count();

        // Jacobian of the residuals by central differences of the (analytic) residual function: J is only needed once.
        var jacobian = Matrix<double>.Build.Dense(data.Count, P);
        for (int k = 0; k < P; k++)
        {
            var plus = (double[])theta.Clone(); var minus = (double[])theta.Clone();
            plus[k] += 1e-6; minus[k] -= 1e-6;
            for (int i = 0; i < data.Count; i++) jacobian[i, k] = (Residual(data, plus, i) - Residual(data, minus, i)) / 2e-6;
        }
        var evd = (jacobian.TransposeThisAndMultiply(jacobian)).Evd(Symmetricity.Symmetric);
        var eigen = evd.EigenValues.Select(c => c.Real).ToArray();
        int weakest = Array.IndexOf(eigen, eigen.Min());
        var direction = Enumerable.Range(0, P).ToDictionary(k => ScalingLaw.Names[k], k => evd.EigenVectors[k, weakest]);
        return new Identifiability(distinct, singular, [.. eigen.Order()], direction, ranges, nearCount);
    }

    static double Residual(Data data, double[] theta, int i)
    {
        double d = (Math.Exp(theta[2]) * data.Ch[i] + Math.Exp(theta[3]) * data.Ra[i] + Math.Exp(theta[4]) * data.Sim[i]) * data.V[i] + Math.Exp(theta[5]);
        return Math.Log(Math.Pow(d, -Math.Exp(theta[0])) + Math.Exp(theta[1])) - data.LogL[i];
    }

    internal sealed class Data(IReadOnlyList<ScalingSample> s)
    {
        public readonly int Count = s.Count;
        public readonly double[] V = s.Select(x => x.Tokens).ToArray(), Ch = s.Select(x => x.Coherence).ToArray(),
            Ra = s.Select(x => x.Readability).ToArray(), Sim = s.Select(x => x.Similarity).ToArray(), LogL = s.Select(x => Math.Log(x.Loss)).ToArray();
    }
}
