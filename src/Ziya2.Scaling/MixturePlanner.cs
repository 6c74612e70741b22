namespace Ziya2.Scaling;

/// <summary>
/// A data source the planner can draw on: the tokens it offers (its size times the epochs allowed) and its measured
/// attributes — coherence and readability from the data evaluation, similarity to the benchmark — each in [0, 1].
/// </summary>
public sealed record SourceProfile(string Name, double Tokens, double Coherence, double Readability, double Similarity);

/// <summary>A mixture: tokens drawn from each source, by name.</summary>
public sealed record PlannedMixture(string Label, IReadOnlyDictionary<string, double> Tokens)
{
    public double TotalTokens => Tokens.Values.Sum();
}

/// <summary>
/// A mixture's prediction: the attributes combined by token share, the predicted loss, whether the sources hold the
/// tokens it draws, and the elasticity of the loss to each coefficient (∂ln L/∂ln θ: 0.01 means a coefficient 1 %
/// higher raises the prediction 0.01 %).
/// </summary>
public sealed record MixturePrediction(
    PlannedMixture Mixture, double Coherence, double Readability, double Similarity, double Loss, bool Feasible,
    IReadOnlyDictionary<string, double> Elasticity);

/// <summary>What the planner proposes, and how every candidate fared.</summary>
/// <param name="Best">The optimal mixture for the goal (or null when no mixture of the sources reaches the target).</param>
/// <param name="Candidates">The given candidates, best first: feasible before infeasible, then by the goal.</param>
/// <param name="ReachableLoss">The lowest loss all the sources' tokens together can reach.</param>
/// <param name="Robustness">For each coefficient with a near-optimal range (a fit's identifiability report): whether
/// the best candidate stays best with that coefficient at either end of its range.</param>
public sealed record MixturePlan(
    MixturePrediction? Best, IReadOnlyList<MixturePrediction> Candidates, double ReachableLoss,
    IReadOnlyDictionary<string, bool> Robustness);

/// <summary>
/// Plans a data mixture with the data-centric scaling law (paper §7). A mixture that draws tᵢ tokens from source i has
/// V = Σ tᵢ and attributes Σ tᵢ·xᵢ / V, so D = Σ tᵢ·qᵢ + F with qᵢ = A·CHᵢ + B·RAᵢ + C·SIMᵢ: the effective data is linear
/// in the tokens and the loss falls as D grows. Hence, exactly: the lowest loss within a budget fills the budget from
/// the sources of highest q first, and the fewest tokens that reach a target do the same until D reaches
/// (L − E)^(−1/α). Candidates (shares of a total, or tokens per source) are predicted and ranked for the same goal.
/// </summary>
public static class MixturePlanner
{
    /// <summary>A source's worth per token under <paramref name="law"/>: A·CH + B·RA + C·SIM.</summary>
    public static double Quality(ScalingLaw law, SourceProfile s) => law.A * s.Coherence + law.B * s.Readability + law.C * s.Similarity;

    /// <summary>Predicts <paramref name="mixture"/> drawn from <paramref name="sources"/>.</summary>
    public static MixturePrediction Predict(ScalingLaw law, IReadOnlyList<SourceProfile> sources, PlannedMixture mixture)
    {
        var byName = Index(sources);
        double v = 0, ch = 0, ra = 0, sim = 0;
        bool feasible = true;
        foreach (var (name, tokens) in mixture.Tokens)
        {
            if (!byName.TryGetValue(name, out var s)) throw new ArgumentException($"mixture '{mixture.Label}' draws from '{name}', which is not a source ({string.Join(", ", byName.Keys)})");
            if (!(tokens >= 0) || double.IsInfinity(tokens)) throw new ArgumentException($"mixture '{mixture.Label}': tokens from '{name}' must be ≥ 0 (found {tokens})");
            feasible &= tokens <= s.Tokens * (1 + 1e-9);
            v += tokens; ch += tokens * s.Coherence; ra += tokens * s.Readability; sim += tokens * s.Similarity;
        }
        if (v > 0) { ch /= v; ra /= v; sim /= v; }
        double loss = law.Predict(v, ch, ra, sim);
        return new MixturePrediction(mixture, ch, ra, sim, loss, feasible, Elasticities(law, v, ch, ra, sim));
    }

    /// <summary>The mixture with the lowest predicted loss that draws <paramref name="budget"/> tokens (all of them when the sources hold fewer).</summary>
    public static PlannedMixture LowestLoss(ScalingLaw law, IReadOnlyList<SourceProfile> sources, double budget)
    {
        if (!(budget > 0) || double.IsInfinity(budget)) throw new ArgumentException($"the token budget must be > 0 (found {budget})");
        return Fill(law, sources, budget, double.PositiveInfinity, "lowest loss");
    }

    /// <summary>
    /// The mixture that reaches <paramref name="targetLoss"/> with the fewest tokens, or null when the sources cannot
    /// (the target is at or below E, or beyond what all their tokens reach).
    /// </summary>
    public static PlannedMixture? FewestTokens(ScalingLaw law, IReadOnlyList<SourceProfile> sources, double targetLoss)
    {
        if (!(targetLoss > 0)) throw new ArgumentException($"the target loss must be > 0 (found {targetLoss})");
        if (targetLoss <= law.E) return null;
        double needed = Math.Pow(targetLoss - law.E, -1 / law.Alpha) - law.F;   // Σ tᵢ·qᵢ the target needs
        if (needed <= 0) return new PlannedMixture("fewest tokens", sources.ToDictionary(s => s.Name, _ => 0.0));
        var all = Fill(law, sources, double.PositiveInfinity, needed, "fewest tokens");
        return Sum(all, sources, law) >= needed * (1 - 1e-12) ? all : null;
    }

    /// <summary>
    /// Plans for a budget (lowest loss within it) or a target (fewest tokens reaching it): the optimum over all mixtures
    /// of <paramref name="sources"/>, and <paramref name="candidates"/> predicted and ranked. Candidates given as shares
    /// are scaled to the budget, or to the tokens that make them reach the target.
    /// <paramref name="ranges"/> (a fit's near-optimal ranges by coefficient name) add the robustness of the choice.
    /// </summary>
    public static MixturePlan Plan(ScalingLaw law, IReadOnlyList<SourceProfile> sources, double? budget, double? targetLoss,
        IReadOnlyList<(string Label, IReadOnlyDictionary<string, double> Shares)> candidates,
        IReadOnlyDictionary<string, (double Min, double Max)>? ranges = null)
    {
        Check(sources);
        if (budget is null == targetLoss is null) throw new ArgumentException("give a token budget or a target loss (one of them)");
        var best = budget is { } b ? LowestLoss(law, sources, b) : FewestTokens(law, sources, targetLoss!.Value);
        double reachable = Predict(law, sources, new PlannedMixture("all", sources.ToDictionary(s => s.Name, s => s.Tokens))).Loss;

        List<MixturePrediction> Rank(ScalingLaw l) => [.. candidates.Select(c => Predict(l, sources, Scale(l, sources, c.Label, c.Shares, budget, targetLoss)))
            .OrderBy(p => p.Feasible ? 0 : 1).ThenBy(p => budget is null ? p.Mixture.TotalTokens : p.Loss)];
        var ranked = Rank(law);

        var robustness = new Dictionary<string, bool>();
        if (ranges is not null && ranked.Count > 1)
            foreach (var (name, (min, max)) in ranges)
            {
                int k = Array.IndexOf(ScalingLaw.Names, name);
                if (k < 0) continue;
                robustness[name] = new[] { min, max }.All(value =>
                {
                    var p = law.ToArray(); p[k] = value;
                    return Rank(ScalingLaw.FromArray(p))[0].Mixture.Label == ranked[0].Mixture.Label;
                });
            }
        return new MixturePlan(best is null ? null : Predict(law, sources, best), ranked, reachable, robustness);
    }

    /// <summary>Shares (any positive scale) as tokens: times the budget, or the total at which the mixture reaches the target (infinite when it never does).</summary>
    static PlannedMixture Scale(ScalingLaw law, IReadOnlyList<SourceProfile> sources, string label, IReadOnlyDictionary<string, double> shares, double? budget, double? target)
    {
        double sum = shares.Values.Sum();
        if (!(sum > 0) || shares.Values.Any(v => !(v >= 0))) throw new ArgumentException($"mixture '{label}': shares must be ≥ 0 and not all 0");
        var w = shares.ToDictionary(kv => kv.Key, kv => kv.Value / sum);
        double total;
        if (budget is { } b) total = b;
        else
        {
            var byName = Index(sources);
            double q = w.Sum(kv => kv.Value * (byName.TryGetValue(kv.Key, out var s) ? Quality(law, s) : throw new ArgumentException($"mixture '{label}' draws from '{kv.Key}', which is not a source ({string.Join(", ", byName.Keys)})")));
            double needed = target!.Value > law.E ? Math.Pow(target.Value - law.E, -1 / law.Alpha) - law.F : double.PositiveInfinity;
            total = needed <= 0 ? 0 : q > 0 ? needed / q : double.PositiveInfinity;
        }
        return new PlannedMixture(label, w.ToDictionary(kv => kv.Key, kv => kv.Value * total));
    }

    /// <summary>Draws from the sources of highest quality first until <paramref name="tokens"/> are drawn or Σ tᵢ·qᵢ reaches <paramref name="worth"/>.</summary>
    static PlannedMixture Fill(ScalingLaw law, IReadOnlyList<SourceProfile> sources, double tokens, double worth, string label)
    {
        Check(sources);
        var drawn = sources.ToDictionary(s => s.Name, _ => 0.0);
        foreach (var s in sources.OrderByDescending(s => Quality(law, s)).ThenBy(s => s.Name, StringComparer.Ordinal))
        {
            double q = Quality(law, s);
            if (tokens <= 0 || worth <= 0 || q <= 0) break;
            double take = Math.Min(s.Tokens, Math.Min(tokens, worth / q));
            drawn[s.Name] = take;
            tokens -= take; worth -= take * q;
        }
        return new PlannedMixture(label, drawn);
    }

    static double Sum(PlannedMixture m, IReadOnlyList<SourceProfile> sources, ScalingLaw law) =>
        sources.Sum(s => m.Tokens.GetValueOrDefault(s.Name) * Quality(law, s));

    /// <summary>∂ln L/∂ln θ for each coefficient, by central differences in log θ.</summary>
    static IReadOnlyDictionary<string, double> Elasticities(ScalingLaw law, double v, double ch, double ra, double sim)
    {
        var p = law.ToArray();
        var result = new Dictionary<string, double>();
        const double h = 1e-4;
        for (int k = 0; k < p.Length; k++)
        {
            var up = (double[])p.Clone(); var down = (double[])p.Clone();
            up[k] *= Math.Exp(h); down[k] *= Math.Exp(-h);
            result[ScalingLaw.Names[k]] = (Math.Log(ScalingLaw.FromArray(up).Predict(v, ch, ra, sim)) - Math.Log(ScalingLaw.FromArray(down).Predict(v, ch, ra, sim))) / (2 * h);
        }
        return result;
    }

    static Dictionary<string, SourceProfile> Index(IReadOnlyList<SourceProfile> sources) => sources.ToDictionary(s => s.Name, StringComparer.Ordinal);

    static void Check(IReadOnlyList<SourceProfile> sources)
    {
        if (sources.Count == 0) throw new ArgumentException("no sources to plan with");
        foreach (var s in sources)
        {
            if (!(s.Tokens >= 0) || double.IsInfinity(s.Tokens)) throw new ArgumentException($"source '{s.Name}': tokens must be ≥ 0 (found {s.Tokens})");
            foreach (var (what, x) in new[] { ("coherence", s.Coherence), ("readability", s.Readability), ("similarity", s.Similarity) })
                if (!(x is >= 0 and <= 1)) throw new ArgumentException($"source '{s.Name}': {what} must be in [0, 1] (found {x})");
        }
        if (sources.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1) is { } dup) throw new ArgumentException($"source '{dup.Key}' is listed twice");
    }
}
