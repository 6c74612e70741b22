using System.Globalization;
using System.Text;
using System.Text.Json;
using Ziya2.Configuration;

namespace Ziya2.DataFactory.Evaluation;

/// <summary>
/// <c>[evaluation.auto_tighten]</c>: the quality gate closes its own loop. When the gate fails, the factory moves the
/// failing criteria's options (<see cref="GateTightenings"/>) one step, re-runs the pipelines from the first one that
/// reads a changed option — into <c>&lt;output&gt;/rounds/&lt;n&gt;</c>, the earlier outputs kept — and evaluates again,
/// until the gate passes, an option reaches its bound, the rounds run out or the kept share would fall below the floor.
/// </summary>
public sealed class AutoTightenSettings : IValidatableOptions
{
    /// <summary>Off by default: a failing gate then stops the run (or warns) as it always did.</summary>
    public bool Enabled { get; set; }
    /// <summary>Rounds after the first evaluation.</summary>
    public int MaxRounds { get; set; } = 5;
    /// <summary>
    /// Least share of the documents the first round (the config's own settings) kept that a tightened round must keep;
    /// a round below it is not taken and the loop stops.
    /// </summary>
    public double MinKeptShare { get; set; } = 0.5;
    /// <summary>Change per round, by option key (<c>"filters.html-remnants.threshold" = 0.5</c>); others use the defaults.</summary>
    public Dictionary<string, double> Steps { get; set; } = [];
    /// <summary>Furthest value, by option key; others use the defaults.</summary>
    public Dictionary<string, double> Bounds { get; set; } = [];

    public IEnumerable<string> Validate()
    {
        if (MaxRounds < 1) yield return "max_rounds must be >= 1";
        if (MinKeptShare is < 0 or > 1) yield return "min_kept_share must be within [0, 1]";
        var known = GateTightenings.Criteria.SelectMany(GateTightenings.For).Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var key in Steps.Keys.Concat(Bounds.Keys).Where(k => !known.Contains(k)).Distinct())
            yield return $"'{key}' is not an option the gate tightens ({string.Join(", ", known.Order(StringComparer.Ordinal))})";
        foreach (var (key, step) in Steps.Where(kv => !(kv.Value > 0)))
            yield return $"steps.\"{key}\" must be > 0 (found {step})";
    }

    /// <summary>The change per round for <paramref name="t"/>.</summary>
    public double StepFor(Tightening t) => Steps.TryGetValue(t.Key, out var s) ? s : t.Change;
    /// <summary>The bound for <paramref name="t"/>.</summary>
    public double BoundFor(Tightening t) => Bounds.TryGetValue(t.Key, out var b) ? b : t.Bound;
}

/// <summary>What the loop does after one evaluation: the options to change (key → new value), or why it stops.</summary>
public sealed record TighteningDecision(IReadOnlyDictionary<string, double> Changes, string? Stop)
{
    public bool Continues => Stop is null && Changes.Count > 0;
}

/// <summary>The next step of the gate's loop, decided from its verdict and the options' current values.</summary>
public static class GateLoop
{
    /// <summary>
    /// For every failing criterion, the first of its tightenings whose key the config sets and whose step runs
    /// (<paramref name="valueOf"/> returns null otherwise) and that is not yet at its bound moves one step; a key two criteria share moves once.
    /// When a failing criterion has nothing left to move, the loop stops and says which option is where: more rounds
    /// could never make the gate pass.
    /// </summary>
    public static TighteningDecision Next(GateResult gate, Func<string, double?> valueOf, AutoTightenSettings settings)
    {
        ArgumentNullException.ThrowIfNull(gate);
        if (gate.Passed) return new TighteningDecision(new Dictionary<string, double>(), null);
        var changes = new SortedDictionary<string, double>(StringComparer.Ordinal);
        var stuck = new List<string>();
        foreach (var failure in gate.Failures)
        {
            var why = new List<string>();
            bool moved = false;
            foreach (var t in GateTightenings.For(failure.Name))
            {
                if (changes.ContainsKey(t.Key)) { moved = true; break; }
                if (valueOf(t.Key) is not { } current) { why.Add($"{t.Key} is not set in the config (or its step does not run)"); continue; }
                double bound = settings.BoundFor(t);
                if (t.AtBound(current, bound)) { why.Add($"{t.Key} is at its bound {Show(bound)}"); continue; }
                changes[t.Key] = t.Next(current, settings.StepFor(t), bound);
                moved = true;
                break;
            }
            if (!moved)
                stuck.Add($"{failure.Name} ({failure.Rate.ToString("P3", CultureInfo.InvariantCulture)} > {gate.Threshold.ToString("P2", CultureInfo.InvariantCulture)}): " +
                          (why.Count == 0 ? "no option tightens it automatically; " + failure.Advice : string.Join("; ", why)));
        }
        return stuck.Count > 0
            ? new TighteningDecision(new Dictionary<string, double>(), "nothing left to tighten for " + string.Join(" | ", stuck) + " (bounds: evaluation.auto_tighten.bounds)")
            : new TighteningDecision(changes, null);
    }

    /// <summary>A value as a TOML literal: integers without a fraction, others in their shortest round-trip form.</summary>
    public static string Literal(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? ((long)value).ToString(CultureInfo.InvariantCulture) : value.ToString("R", CultureInfo.InvariantCulture);

    internal static string Show(double value) => Literal(value);
}

/// <summary>One evaluation of the loop: the settings it ran with, what the factory kept and the gate's verdict.</summary>
/// <param name="Round">0 for the config's own settings, then 1, 2, …</param>
/// <param name="Changed">Options this round changed from the one before (empty for the first).</param>
/// <param name="Settings">Every option changed so far, with its value in this round.</param>
/// <param name="Funnel">Documents read, then left after each step.</param>
/// <param name="Rerun">The pipelines this round ran (the rest were taken from earlier rounds).</param>
/// <param name="Gate">The gate's verdict on this round's output.</param>
/// <param name="Kept">Directory of the documents this round kept.</param>
public sealed record GateRound(
    int Round, IReadOnlyDictionary<string, double> Changed, IReadOnlyDictionary<string, double> Settings,
    IReadOnlyList<(string Step, long Documents)> Funnel, IReadOnlyList<string> Rerun, GateResult Gate, string Kept)
{
    /// <summary>The share of the raw documents this round kept.</summary>
    public double KeptShare => Funnel.Count == 0 || Funnel[0].Documents == 0 ? 0 : (double)Funnel[^1].Documents / Funnel[0].Documents;

    /// <summary>What the round changed, for reports and logs: <c>key = value, …</c>, or "(the config)" for the first.</summary>
    public string ChangedText => Changed.Count == 0 ? "(the config)" : string.Join(", ", Changed.Select(kv => $"{kv.Key} = {GateLoop.Literal(kv.Value)}"));

    /// <summary>Documents kept and their share of the raw ones: <c>18 (78.3 %)</c>.</summary>
    public string KeptText => string.Create(CultureInfo.InvariantCulture, $"{Funnel[^1].Documents:N0} ({KeptShare:P1})");

    /// <summary>The criteria still failing with their rates: <c>html_function 10.000 %</c>.</summary>
    public string FailingText => string.Join(", ", Gate.Failures.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Name} {f.Rate:P3}")));
}

/// <summary>Writes the loop's record: <c>rounds.json</c> (every round) and <c>tightened.toml</c> (the chosen settings).</summary>
public static class GateRounds
{
    /// <summary>
    /// Writes both files into <paramref name="directory"/>. <paramref name="chosen"/> is the round whose output the
    /// factory hands on; <paramref name="stop"/> why the loop ended when that was not a passing gate.
    /// </summary>
    public static void Write(string directory, IReadOnlyList<GateRound> rounds, GateRound chosen, string? stop)
    {
        Directory.CreateDirectory(directory);
        var record = new
        {
            chosen_round = chosen.Round,
            passed = chosen.Gate.Passed,
            stop,
            rounds = rounds.Select(r => new
            {
                round = r.Round,
                changed = r.Changed,
                settings = r.Settings,
                rerun = r.Rerun,
                funnel = r.Funnel.Select(f => new { step = f.Step, documents = f.Documents }),
                kept_share = Math.Round(r.KeptShare, 6),
                passed = r.Gate.Passed,
                unqualified = r.Gate.Criteria.ToDictionary(c => c.Name, c => Math.Round(c.Rate, 6)),
                kept = r.Kept,
            }),
        };
        AtomicFile.Write(Path.Combine(directory, "rounds.json"), JsonSerializer.Serialize(record, new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.Write(Path.Combine(directory, "tightened.toml"), Toml(chosen, stop));
    }

    /// <summary>The chosen settings as TOML, one table per step: copy the keys into a config (or pass them with --set) to keep them.</summary>
    public static string Toml(GateRound chosen, string? stop)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# The quality gate's automatic tightening: round {chosen.Round}, gate {(chosen.Gate.Passed ? "passed" : "failed")}" +
                                                  $"{(stop is null ? "" : $" ({stop})")}.\n");
        if (chosen.Settings.Count == 0) text.Append("# No option was changed.\n");
        else text.Append("# Copy these keys into your config (after its include) or pass them with --set to keep them.\n");
        foreach (var step in chosen.Settings.GroupBy(kv => kv.Key[..kv.Key.LastIndexOf('.')], StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            text.Append('\n').Append('[').Append(step.Key).Append("]\n");
            foreach (var (key, value) in step.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                text.Append(key[(key.LastIndexOf('.') + 1)..]).Append(" = ").Append(GateLoop.Literal(value)).Append('\n');
        }
        return text.ToString();
    }
}
