using System.Text.Json;
using Ziya2.DataFactory.Evaluation;

namespace Ziya2.DataFactory.Tests;

/// <summary>The gate's own loop: which option moves, by how much, and when it stops.</summary>
public class GateLoopTests
{
    static GateResult Failing(params (string Name, double Rate)[] criteria) =>
        new(false, 0.001, [.. criteria.Select(c => new CriterionResult(c.Name, "automatic", 1, 100, c.Rate, c.Rate <= 0.001, GateTightenings.Advice(c.Name)))]);

    static Func<string, double?> Values(params (string Key, double Value)[] values) =>
        key => values.Where(v => v.Key == key).Select(v => (double?)v.Value).FirstOrDefault();

    [Fact]
    public void A_failing_criterion_moves_its_first_option_one_step_and_nothing_else()
    {
        var decision = GateLoop.Next(Failing(("html_function", 0.05), ("privacy", 0)),
            Values(("filters.html-remnants.threshold", 5), ("filters.code-remnants.threshold", 0.2), ("filters.privacy.min_remaining", 0.5)), new AutoTightenSettings());
        Assert.True(decision.Continues);
        Assert.Equal(new Dictionary<string, double> { ["filters.html-remnants.threshold"] = 4 }, decision.Changes);
    }

    [Fact]
    public void Configured_steps_and_bounds_replace_the_defaults_and_a_move_stops_at_the_bound()
    {
        var settings = new AutoTightenSettings { Steps = { ["filters.html-remnants.threshold"] = 2.5 }, Bounds = { ["filters.html-remnants.threshold"] = 1 } };
        var gate = Failing(("html_function", 0.05));
        Assert.Equal(2.5, GateLoop.Next(gate, Values(("filters.html-remnants.threshold", 5)), settings).Changes["filters.html-remnants.threshold"]);
        Assert.Equal(1, GateLoop.Next(gate, Values(("filters.html-remnants.threshold", 2.5)), settings).Changes["filters.html-remnants.threshold"]);
        // At the bound the next option of the criterion takes over (code-remnants, the same criterion's second).
        var next = GateLoop.Next(gate, Values(("filters.html-remnants.threshold", 1), ("filters.code-remnants.threshold", 0.2)), settings);
        Assert.Equal(["filters.code-remnants.threshold"], next.Changes.Keys);
        Assert.Equal(0.15, next.Changes["filters.code-remnants.threshold"], 9);
    }

    [Fact]
    public void Raising_options_go_up_and_integer_options_stay_whole()
    {
        var decision = GateLoop.Next(Failing(("advertising", 0.02), ("readability", 0.01)),
            Values(("filters.advertising.min_hits", 3), ("filters.terminal-punctuation.min_remaining", 0.3)), new AutoTightenSettings());
        Assert.Equal(2, decision.Changes["filters.advertising.min_hits"]);
        Assert.Equal("2", GateLoop.Literal(decision.Changes["filters.advertising.min_hits"]));
        Assert.Equal(0.4, decision.Changes["filters.terminal-punctuation.min_remaining"], 9);
        Assert.Equal("0.4", GateLoop.Literal(decision.Changes["filters.terminal-punctuation.min_remaining"]));
    }

    [Fact]
    public void An_option_two_failing_criteria_share_moves_once()
    {
        // Readability's first two options are at their bounds, so it reaches the perplexity cut-off coherence moves first.
        var decision = GateLoop.Next(new GateResult(false, 0.001,
            [new CriterionResult("coherence", "human", 3, 100, 0.03, false, ""), new CriterionResult("readability", "human", 2, 100, 0.02, false, "")]),
            Values(("filters.perplexity.medium", 0.6), ("filters.terminal-punctuation.min_remaining", 0.8), ("filters.line-punctuation.threshold", 0.4)),
            new AutoTightenSettings());
        Assert.Equal(new Dictionary<string, double> { ["filters.perplexity.medium"] = 0.55 }, decision.Changes);
    }

    [Fact]
    public void The_loop_stops_when_a_failing_criterion_has_nothing_left_to_move_and_says_where_each_option_is()
    {
        var settings = new AutoTightenSettings { Bounds = { ["filters.html-remnants.threshold"] = 3 } };
        var decision = GateLoop.Next(Failing(("html_function", 0.05), ("advertising", 0.02)),
            Values(("filters.html-remnants.threshold", 3), ("filters.advertising.min_hits", 2)), settings);
        Assert.False(decision.Continues);
        Assert.Empty(decision.Changes);   // not even advertising's move: more rounds could never pass
        Assert.Contains("html_function (5.000 % > 0.10 %)", decision.Stop);
        Assert.Contains("filters.html-remnants.threshold is at its bound 3", decision.Stop);
        Assert.Contains("filters.code-remnants.threshold is not set in the config", decision.Stop);

        var privacy = GateLoop.Next(Failing(("privacy", 0.01)), Values(), new AutoTightenSettings());
        Assert.Contains("no option tightens it automatically; run the privacy step", privacy.Stop);
    }

    [Fact]
    public void A_passing_gate_changes_nothing()
    {
        var decision = GateLoop.Next(new GateResult(true, 0.001, []), Values(("filters.html-remnants.threshold", 5)), new AutoTightenSettings());
        Assert.False(decision.Continues);
        Assert.Null(decision.Stop);
    }

    [Fact]
    public void Settings_refuse_keys_the_gate_does_not_tighten_and_steps_that_do_not_move()
    {
        var errors = new AutoTightenSettings { Steps = { ["filters.min-length.min_chars"] = 10, ["filters.html-remnants.threshold"] = 0 }, MinKeptShare = 2, MaxRounds = 0 }.Validate().ToList();
        Assert.Contains(errors, e => e.StartsWith("'filters.min-length.min_chars' is not an option the gate tightens", StringComparison.Ordinal));
        Assert.Contains("steps.\"filters.html-remnants.threshold\" must be > 0 (found 0)", errors);
        Assert.Contains("min_kept_share must be within [0, 1]", errors);
        Assert.Contains("max_rounds must be >= 1", errors);
    }

    [Fact]
    public void Every_tightened_key_is_written_out_by_the_shipped_pipeline_definition()
    {
        // The loop only turns options the config sets; the shared definition promises to set every threshold.
        var shipped = File.ReadAllText(Path.Combine(RepoRoot(), "recipes", "pipelines", "ziya2.toml"));
        foreach (var t in GateTightenings.Criteria.SelectMany(GateTightenings.For))
        {
            var section = $"[filters.{t.Step}]";
            int at = shipped.IndexOf(section + "\n", StringComparison.Ordinal) is var i and >= 0 ? i : shipped.IndexOf(section + " ", StringComparison.Ordinal);
            Assert.True(at >= 0, $"{section} is not in ziya2.toml");
            var body = shipped[(at + section.Length)..];
            body = body[..(body.IndexOf("\n[", StringComparison.Ordinal) is var end and >= 0 ? end : body.Length)];
            Assert.Matches($@"(?m)^{System.Text.RegularExpressions.Regex.Escape(t.Key.Split('.')[2])}\s*=", body);
        }
    }

    [Fact]
    public void The_record_names_every_round_and_the_chosen_settings_as_toml()
    {
        using var tmp = new TempDir();
        var pass = new GateResult(true, 0.001, [new CriterionResult("html_function", "automatic", 0, 18, 0, true, "")]);
        var fail = Failing(("html_function", 0.1));
        IReadOnlyList<(string, long)> funnel(long kept) => [("raw", 20), ("rf", kept)];
        var rounds = new List<GateRound>
        {
            new(0, new Dictionary<string, double>(), new Dictionary<string, double>(), funnel(20), ["dp", "rf"], fail, "a"),
            new(1, new Dictionary<string, double> { ["filters.html-remnants.threshold"] = 4 }, new Dictionary<string, double> { ["filters.html-remnants.threshold"] = 4, ["filters.advertising.min_hits"] = 1 }, funnel(18), ["rf"], pass, "b"),
        };
        GateRounds.Write(tmp.Path, rounds, rounds[1], null);
        Assert.Equal("""
            # The quality gate's automatic tightening: round 1, gate passed.
            # Copy these keys into your config (after its include) or pass them with --set to keep them.

            [filters.advertising]
            min_hits = 1

            [filters.html-remnants]
            threshold = 4

            """.ReplaceLineEndings("\n"), File.ReadAllText(tmp.Combine("tightened.toml")));
        var json = JsonDocument.Parse(File.ReadAllText(tmp.Combine("rounds.json"))).RootElement;
        Assert.Equal(1, json.GetProperty("chosen_round").GetInt32());
        Assert.Equal(0.9, json.GetProperty("rounds")[1].GetProperty("kept_share").GetDouble(), 6);
        Assert.Equal(0.1, json.GetProperty("rounds")[0].GetProperty("unqualified").GetProperty("html_function").GetDouble(), 6);
        Assert.Equal("rf", json.GetProperty("rounds")[1].GetProperty("rerun")[0].GetString());
    }

    static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Ziya2.Framework.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("repository root (Ziya2.Framework.sln) not found above " + AppContext.BaseDirectory);
    }
}
