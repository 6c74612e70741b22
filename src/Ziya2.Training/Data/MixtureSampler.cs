namespace Ziya2.Training.Data;

/// <summary>A source in a stage's mixture.</summary>
/// <param name="Name">Name in logs and checkpoints.</param>
/// <param name="File">Its token file.</param>
/// <param name="Mode">How it is packed.</param>
/// <param name="Weight">Share of the stage's tokens (normalised over the mixture).</param>
/// <param name="MaskPrompt">Samples mode: no loss on prompt tokens (default: loss on answers only).</param>
public sealed record MixtureSource(string Name, TokenFile File, PackingMode Mode, double Weight, bool MaskPrompt = true);

/// <summary>The sampler's resumable state: its random generator and every source's position.</summary>
public sealed record MixtureState(ulong Rng, IReadOnlyDictionary<string, SourceState> Sources, IReadOnlyDictionary<string, long> Drawn);

/// <summary>
/// Draws training sequences from weighted sources (weights are shares of tokens: every sequence holds seq_len tokens, so
/// sequence draws in proportion to the weights give tokens in that proportion). Deterministic from the seed; the
/// state (<see cref="SaveState"/>) goes into every checkpoint, so a resumed run draws exactly what it would have.
/// </summary>
public sealed class MixtureSampler
{
    readonly IReadOnlyList<MixtureSource> _sources;
    readonly SourcePacker[] _packers;
    readonly double[] _cumulative;
    readonly Dictionary<string, long> _drawn = [];
    SplitMix64 _rng;

    public MixtureSampler(IReadOnlyList<MixtureSource> sources, int sequenceLength, int eosId, int padId, ulong seed)
    {
        if (sources.Count == 0) throw new ArgumentException("a mixture needs at least one source");
        if (sources.Any(s => !(s.Weight > 0))) throw new ArgumentException("every source weight must be > 0");
        if (sources.Select(s => s.Name).Distinct().Count() != sources.Count) throw new ArgumentException("source names must be unique");
        _sources = sources;
        _packers = sources.Select((s, i) => new SourcePacker(s.File, SplitMix64.Derive(seed, (ulong)i + 1), s.Mode, sequenceLength, eosId, padId, s.MaskPrompt)).ToArray();
        double total = sources.Sum(s => s.Weight), acc = 0;
        _cumulative = sources.Select(s => acc += s.Weight / total).ToArray();
        _cumulative[^1] = 1.0;
        _rng = new SplitMix64(SplitMix64.Derive(seed, 0));
        foreach (var s in sources) _drawn[s.Name] = 0;
    }

    /// <summary>Sequences drawn per source so far.</summary>
    public IReadOnlyDictionary<string, long> Drawn => _drawn;

    /// <summary>The next sequence and the source it came from.</summary>
    public (PackedSequence Sequence, string Source) Next()
    {
        double u = _rng.NextDouble();
        int i = Array.FindIndex(_cumulative, c => u < c);
        if (i < 0) i = _cumulative.Length - 1;
        _drawn[_sources[i].Name]++;
        return (_packers[i].Next(), _sources[i].Name);
    }

    public MixtureState SaveState() =>
        new(_rng.State, _sources.Select((s, i) => (s.Name, State: _packers[i].Save())).ToDictionary(x => x.Name, x => x.State), new Dictionary<string, long>(_drawn));

    public void LoadState(MixtureState state)
    {
        foreach (var s in _sources)
            if (!state.Sources.ContainsKey(s.Name)) throw new InvalidDataException($"sampler state has no source '{s.Name}' (has: {string.Join(", ", state.Sources.Keys)})");
        _rng = new SplitMix64(state.Rng);
        for (int i = 0; i < _sources.Count; i++) _packers[i].Load(state.Sources[_sources[i].Name]);
        foreach (var (k, v) in state.Drawn) _drawn[k] = v;
    }
}

/// <summary>Mixture weights as the paper states them: replay by ratio (Stage 2: 1:1) or by token count (Stage 3: 0.1B from each earlier stage).</summary>
public static class Replay
{
    /// <summary>New sources keep their relative weights; replayed sources together get <paramref name="ratio"/> × the new sources' share.</summary>
    public static IReadOnlyList<MixtureSource> ByRatio(IReadOnlyList<MixtureSource> fresh, IReadOnlyList<MixtureSource> replayed, double ratio)
    {
        if (!(ratio > 0)) throw new ArgumentException("replay ratio must be > 0");
        double freshTotal = fresh.Sum(s => s.Weight), replayTotal = replayed.Sum(s => s.Weight);
        return [.. fresh.Select(s => s with { Weight = s.Weight / freshTotal }), .. replayed.Select(s => s with { Weight = ratio * s.Weight / replayTotal })];
    }

    /// <summary>Each replayed source contributes <paramref name="tokensEach"/> of the stage's <paramref name="stageTokens"/>; the new sources share the rest.</summary>
    public static IReadOnlyList<MixtureSource> ByTokens(IReadOnlyList<MixtureSource> fresh, IReadOnlyList<MixtureSource> replayed, double tokensEach, double stageTokens)
    {
        double replayShare = tokensEach * replayed.Count / stageTokens;
        if (!(replayShare is > 0 and < 1)) throw new ArgumentException($"replaying {tokensEach:G3} tokens from each of {replayed.Count} sources does not fit a stage of {stageTokens:G3} tokens");
        double freshTotal = fresh.Sum(s => s.Weight);
        return [.. fresh.Select(s => s with { Weight = (1 - replayShare) * s.Weight / freshTotal }), .. replayed.Select(s => s with { Weight = tokensEach / stageTokens })];
    }
}
