namespace Ziya2.Scaling.Tests;

public sealed class MixturePlannerTests
{
    // Three sources like the paper's stages (Tables 4–5: coherence, readability, similarity to one benchmark) and a
    // fourth that is plentiful but poor.
    static readonly SourceProfile[] Sources =
    [
        new("general", 4e11, 0.801, 0.917, 0.6714),
        new("supervised", 5e10, 0.653, 0.975, 0.6677),
        new("math", 2e10, 0.993, 0.916, 0.6827),
        new("noisy-web", 1e12, 0.35, 0.40, 0.30),
    ];

    static IReadOnlyDictionary<string, double> RandomShares(Random rng)
    {
        var raw = Sources.Select(_ => -Math.Log(1 - rng.NextDouble())).ToArray();   // Dirichlet(1, …, 1)
        return Sources.Select((s, i) => (s.Name, raw[i] / raw.Sum())).ToDictionary(x => x.Name, x => x.Item2);
    }

    [Fact]
    public void Within_a_budget_no_mixture_of_the_sources_predicts_a_lower_loss_than_the_plan()
    {
        var law = ScalingLaw.Paper;
        const double budget = 3e11;
        var best = MixturePlanner.Predict(law, Sources, MixturePlanner.LowestLoss(law, Sources, budget));
        Assert.True(best.Feasible);
        Assert.Equal(budget, best.Mixture.TotalTokens, 1e-6 * budget);
        // The best sources are used up before a worse one is touched.
        Assert.Equal(2e10, best.Mixture.Tokens["math"]);
        Assert.Equal(0, best.Mixture.Tokens["noisy-web"]);
        var rng = new Random(7);
        int feasible = 0;
        for (int i = 0; i < 20000; i++)
        {
            var mixture = new PlannedMixture($"random {i}", RandomShares(rng).ToDictionary(kv => kv.Key, kv => kv.Value * budget));
            var p = MixturePlanner.Predict(law, Sources, mixture);
            if (!p.Feasible) continue;
            feasible++;
            Assert.True(p.Loss >= best.Loss - 1e-12, $"{mixture.Label} predicts {p.Loss} < the plan's {best.Loss}");
        }
        Assert.True(feasible > 500, $"only {feasible} random mixtures were feasible");
    }

    [Fact]
    public void The_fewest_tokens_reach_the_target_and_no_fewer_do()
    {
        var law = ScalingLaw.Paper;
        double target = law.Predict(1e11, 0.8, 0.9, 0.67);
        var plan = MixturePlanner.FewestTokens(law, Sources, target)!;
        var p = MixturePlanner.Predict(law, Sources, plan);
        Assert.Equal(target, p.Loss, 1e-9);
        var less = new PlannedMixture("less", plan.Tokens.ToDictionary(kv => kv.Key, kv => kv.Value * 0.99));
        Assert.True(MixturePlanner.Predict(law, Sources, less).Loss > target);
        // Any random mixture that reaches the target with the tokens the sources hold draws at least as many.
        var rng = new Random(3);
        int feasible = 0;
        for (int i = 0; i < 20000; i++)
        {
            var shares = RandomShares(rng);
            double q = shares.Sum(kv => kv.Value * MixturePlanner.Quality(law, Sources.Single(s => s.Name == kv.Key)));
            double needed = (Math.Pow(target - law.E, -1 / law.Alpha) - law.F) / q;
            if (shares.Any(kv => kv.Value * needed > Sources.Single(s => s.Name == kv.Key).Tokens)) continue;
            feasible++;
            Assert.True(needed >= plan.TotalTokens * (1 - 1e-9), $"{needed} < {plan.TotalTokens}");
        }
        Assert.True(feasible > 500, $"only {feasible} random mixtures were feasible");
        Assert.Null(MixturePlanner.FewestTokens(law, Sources, law.E));                              // E is the floor
        Assert.Null(MixturePlanner.FewestTokens(law, Sources, law.Predict(1e15, 1, 1, 1)));          // more than all the tokens reach
        Assert.All(MixturePlanner.FewestTokens(law, Sources, 5.0)!.Tokens.Values, t => Assert.Equal(0, t));   // the base model is already there
    }

    [Fact]
    public void A_law_fitted_to_noisy_samples_picks_the_candidate_the_true_law_ranks_best()
    {
        var truth = ScalingLaw.Paper;
        var fit = ScalingLawFit.Fit(ScalingLawFitTests.Synthetic(truth, 0.001, 11, [1e9, 1e10, 1e11, 1e12]), new FitOptions { Grid = StartGrid.Coarse });
        (string, IReadOnlyDictionary<string, double>)[] candidates =
        [
            ("web-heavy", new Dictionary<string, double> { ["general"] = 0.3, ["noisy-web"] = 0.7 }),
            ("paper-like", new Dictionary<string, double> { ["general"] = 0.8, ["supervised"] = 0.1, ["math"] = 0.1 }),
            ("supervised-heavy", new Dictionary<string, double> { ["general"] = 0.4, ["supervised"] = 0.6 }),
            ("balanced", new Dictionary<string, double> { ["general"] = 0.25, ["supervised"] = 0.25, ["math"] = 0.25, ["noisy-web"] = 0.25 }),
        ];
        const double budget = 1e11;
        var trueBest = candidates.MinBy(c => MixturePlanner.Predict(truth, Sources, new PlannedMixture(c.Item1, c.Item2.ToDictionary(kv => kv.Key, kv => kv.Value * budget))).Loss).Item1;
        var plan = MixturePlanner.Plan(fit.Law, Sources, budget, null, candidates, fit.Identifiability.NearOptimalRanges);
        Assert.Equal(trueBest, plan.Candidates[0].Mixture.Label);
        Assert.Equal(["alpha", "E", "A", "B", "C", "F"], plan.Robustness.Keys);
        // The optimum over all mixtures is no worse, under the true law, than the best candidate.
        Assert.True(MixturePlanner.Predict(truth, Sources, plan.Best!.Mixture).Loss <= MixturePlanner.Predict(truth, Sources, plan.Candidates[0].Mixture).Loss + 1e-12);
        // Loss rises with E one for one at the margin, and falls as coherence's weight A grows.
        Assert.True(plan.Best.Elasticity["E"] > 0 && plan.Best.Elasticity["A"] < 0);

        // For a target: candidates ranked by the tokens they need; one that cannot reach it ranks last.
        var toTarget = MixturePlanner.Plan(truth, Sources, null, truth.Predict(5e10, 0.8, 0.92, 0.67), candidates);
        Assert.Equal(toTarget.Candidates.Where(c => c.Feasible).Select(c => c.Mixture.TotalTokens).Order(), toTarget.Candidates.Where(c => c.Feasible).Select(c => c.Mixture.TotalTokens));
        Assert.True(toTarget.Best!.Mixture.TotalTokens <= toTarget.Candidates[0].Mixture.TotalTokens * (1 + 1e-9));
    }

    [Fact]
    public void Bad_plans_are_refused_naming_the_problem()
    {
        var law = ScalingLaw.Paper;
        (string, IReadOnlyDictionary<string, double>)[] unknown = [("x", new Dictionary<string, double> { ["books"] = 1 })];
        Assert.Contains("'books', which is not a source", Assert.Throws<ArgumentException>(() => MixturePlanner.Plan(law, Sources, 1e10, null, unknown)).Message);
        Assert.Contains("one of them", Assert.Throws<ArgumentException>(() => MixturePlanner.Plan(law, Sources, 1e10, 0.5, [])).Message);
        Assert.Contains("coherence must be in [0, 1] (found 1.5)", Assert.Throws<ArgumentException>(() => MixturePlanner.LowestLoss(law, [new("a", 1e9, 1.5, 0.5, 0.5)], 1e9)).Message);
        Assert.Contains("listed twice", Assert.Throws<ArgumentException>(() => MixturePlanner.LowestLoss(law, [Sources[0], Sources[0]], 1e9)).Message);
        (string, IReadOnlyDictionary<string, double>)[] zero = [("z", new Dictionary<string, double> { ["general"] = 0 })];
        Assert.Contains("not all 0", Assert.Throws<ArgumentException>(() => MixturePlanner.Plan(law, Sources, 1e10, null, zero)).Message);
    }
}
