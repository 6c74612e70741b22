namespace Ziya2.Training.Data;

/// <summary>How a source's documents become fixed-length training sequences.</summary>
public enum PackingMode
{
    /// <summary>Stage 1: documents concatenated with <c>&lt;eos&gt;</c> and cut into seq_len windows (no padding, documents may span windows).</summary>
    Documents,
    /// <summary>Stages 2–3: whole samples (prompt + answer + <c>&lt;eos&gt;</c>) concatenated up to seq_len, never split, the rest <c>&lt;pad&gt;</c>.</summary>
    Samples,
}

/// <summary>
/// One training sequence: <see cref="Inputs"/> and <see cref="Targets"/> of length seq_len (targets are the inputs shifted
/// by one; <see cref="IgnoreIndex"/> where no loss is taken: padding, and prompts when masked), and the document each
/// position belongs to (for optional cross-document attention masking).
/// </summary>
public sealed record PackedSequence(int[] Inputs, int[] Targets, int[] DocumentIds)
{
    /// <summary>Target value that cross-entropy skips (PyTorch's and TorchSharp's default <c>ignore_index</c>).</summary>
    public const int IgnoreIndex = -100;
}

/// <summary>A source's documents in a seeded order, reshuffled each epoch; the position is part of the checkpoint.</summary>
sealed class DocumentOrder(TokenFile file, ulong seed)
{
    int[] _order = [];
    public long Epoch { get; private set; } = -1;
    public long Position { get; private set; }

    public long Next()
    {
        if (file.Documents == 0) throw new InvalidOperationException($"{file.Directory} holds no documents");
        if (Epoch < 0 || Position >= _order.Length) Shuffle(Epoch + 1);
        return _order[Position++];
    }

    void Shuffle(long epoch)
    {
        Epoch = epoch; Position = 0;
        _order = new int[file.Documents];
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        var rng = new SplitMix64(SplitMix64.Derive(seed, (ulong)epoch));
        for (int i = _order.Length - 1; i > 0; i--) { int j = (int)rng.NextInt64(i + 1); (_order[i], _order[j]) = (_order[j], _order[i]); }
    }

    public (long Epoch, long Position) Save() => (Epoch, Position);

    public void Load(long epoch, long position)
    {
        if (epoch >= 0) Shuffle(epoch);
        else Epoch = -1;
        Position = position;
    }
}

/// <summary>Packs one source's documents into sequences; its carry-over (partial window or pending sample) is saved with it.</summary>
sealed class SourcePacker
{
    readonly TokenFile _file;
    readonly DocumentOrder _order;
    readonly PackingMode _mode;
    readonly int _length, _eos, _pad;
    readonly bool _maskPrompt;
    List<int> _carryTokens = [];
    List<int> _carryDocs = [];
    long _pending = -1;   // Samples mode: a sample that did not fit and opens the next sequence
    int _docCounter;

    public long Truncated { get; private set; }

    public SourcePacker(TokenFile file, ulong seed, PackingMode mode, int sequenceLength, int eos, int pad, bool maskPrompt)
    {
        _file = file; _order = new DocumentOrder(file, seed); _mode = mode; _length = sequenceLength; _eos = eos; _pad = pad; _maskPrompt = maskPrompt;
    }

    public PackedSequence Next() => _mode == PackingMode.Documents ? NextWindow() : NextSamples();

    /// <summary>Continuous stream: T+1 tokens per window, consecutive windows overlap by one token (the last target is the next first input).</summary>
    PackedSequence NextWindow()
    {
        while (_carryTokens.Count < _length + 1)
        {
            var doc = _file.Document(_order.Next());
            int id = _docCounter++;
            _carryTokens.AddRange(doc); _carryTokens.Add(_eos);
            for (int i = 0; i <= doc.Length; i++) _carryDocs.Add(id);
        }
        var inputs = _carryTokens.GetRange(0, _length).ToArray();
        var targets = _carryTokens.GetRange(1, _length).ToArray();
        var docs = Renumber(_carryDocs.GetRange(0, _length));
        _carryTokens.RemoveRange(0, _length);
        _carryDocs.RemoveRange(0, _length);
        return new PackedSequence(inputs, targets, docs);
    }

    /// <summary>Whole samples until the next would not fit; loss on answers (and their eos) only when prompts are masked; pads never.</summary>
    PackedSequence NextSamples()
    {
        var tokens = new List<int>(_length + 1);
        var loss = new List<bool>(_length + 1);
        var docs = new List<int>(_length + 1);
        int sampleId = 0;
        while (true)
        {
            long index = _pending >= 0 ? _pending : _order.Next();
            _pending = -1;
            var doc = _file.Document(index);
            int prompt = _maskPrompt ? _file.PromptLength(index) : 0;
            int size = doc.Length + 1;
            if (size > _length + 1) { Truncated++; size = _length + 1; }
            if (tokens.Count > 0 && tokens.Count + size > _length + 1) { _pending = index; break; }
            for (int i = 0; i < size; i++)
            {
                tokens.Add(i < doc.Length ? doc[i] : _eos);
                loss.Add(i >= prompt);
                docs.Add(sampleId);
            }
            sampleId++;
            if (tokens.Count >= _length + 1) break;
        }
        int real = tokens.Count;
        while (tokens.Count < _length + 1) { tokens.Add(_pad); loss.Add(false); docs.Add(sampleId); }
        var inputs = tokens.GetRange(0, _length).ToArray();
        var targets = new int[_length];
        // Target t predicts token t+1: counted when that token is a real, unmasked token.
        for (int t = 0; t < _length; t++) targets[t] = t + 1 < real && loss[t + 1] ? tokens[t + 1] : PackedSequence.IgnoreIndex;
        return new PackedSequence(inputs, targets, docs.GetRange(0, _length).ToArray());
    }

    static int[] Renumber(List<int> ids)
    {
        var result = new int[ids.Count];
        for (int i = 0; i < ids.Count; i++) result[i] = ids[i] - ids[0];
        return result;
    }

    public SourceState Save()
    {
        var (epoch, position) = _order.Save();
        return new SourceState(epoch, position, [.. _carryTokens], [.. _carryDocs], _pending, _docCounter, Truncated);
    }

    public void Load(SourceState s)
    {
        _order.Load(s.Epoch, s.Position);
        _carryTokens = [.. s.CarryTokens]; _carryDocs = [.. s.CarryDocuments];
        _pending = s.Pending; _docCounter = s.DocumentCounter; Truncated = s.Truncated;
    }
}

/// <summary>A source packer's resumable position.</summary>
public sealed record SourceState(long Epoch, long Position, int[] CarryTokens, int[] CarryDocuments, long Pending, int DocumentCounter, long Truncated);
