using System.Text;

namespace Ziya2.SentencePiece;

/// <summary>
/// A SentencePiece <c>ModelProto</c>: the pieces and the trainer/normalizer settings that change encoding. The raw
/// bytes are kept, so an extended model is the original file plus appended fields — every setting we do not model is
/// preserved byte for byte (protobuf appends repeated fields and merges repeated sub-messages).
/// </summary>
public sealed class SentencePieceModel
{
    // ModelProto
    const int PiecesField = 1, TrainerSpecField = 2, NormalizerSpecField = 3;
    // ModelProto.SentencePiece
    const int PieceText = 1, PieceScore = 2, PieceType = 3;
    // TrainerSpec
    const int ModelTypeField = 3, VocabSizeField = 4, TreatWhitespaceAsSuffixField = 24, ByteFallbackField = 35,
              UnkIdField = 40, BosIdField = 41, EosIdField = 42, PadIdField = 43, UnkSurfaceField = 44;
    // NormalizerSpec
    const int NormalizerName = 1, PrecompiledCharsmap = 2, AddDummyPrefixField = 3, RemoveExtraWhitespacesField = 4, EscapeWhitespacesField = 5;

    public required byte[] Raw { get; init; }
    public required IReadOnlyList<(string Piece, float Score, SentencePieceType Type)> Pieces { get; init; }
    /// <summary><c>TrainerSpec.model_type</c> values.</summary>
    public const int Unigram = 1, Bpe = 2;

    /// <summary><see cref="Unigram"/> (the proto default) or <see cref="Bpe"/>.</summary>
    public int ModelType { get; private set; } = Unigram;
    public bool ByteFallback { get; private set; }
    public bool TreatWhitespaceAsSuffix { get; private set; }
    public int UnkId { get; private set; }
    public int BosId { get; private set; } = 1;
    public int EosId { get; private set; } = 2;
    public int PadId { get; private set; } = -1;
    public string UnkSurface { get; private set; } = " \u2047 ";
    public string NormalizerRule { get; private set; } = "";
    /// <summary>The normalizer's precompiled character map (empty for <c>identity</c>): see <see cref="SentencePieceNormalizer"/>.</summary>
    public byte[] PrecompiledCharsMap { get; private set; } = [];
    public bool HasCharsMap => PrecompiledCharsMap.Length > 0;
    public bool AddDummyPrefix { get; private set; } = true;
    public bool RemoveExtraWhitespaces { get; private set; } = true;
    public bool EscapeWhitespaces { get; private set; } = true;

    public static SentencePieceModel Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"tokenizer model '{path}' not found", path);
        try { return Parse(File.ReadAllBytes(path)); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: not a valid SentencePiece model: {e.Message}"); }
    }

    public static SentencePieceModel Parse(byte[] raw)
    {
        var pieces = new List<(string, float, SentencePieceType)>();
        var trainer = new List<byte[]>();
        var normalizer = new List<byte[]>();
        var reader = new ProtoReader(raw);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            if (field == PiecesField && wire == 2) pieces.Add(ParsePiece(reader.ReadBytes()));
            else if (field == TrainerSpecField && wire == 2) trainer.Add(reader.ReadBytes().ToArray());
            else if (field == NormalizerSpecField && wire == 2) normalizer.Add(reader.ReadBytes().ToArray());
            else reader.Skip(wire);
        }
        if (pieces.Count == 0) throw new InvalidDataException("no pieces");
        var model = new SentencePieceModel { Raw = raw, Pieces = pieces };
        foreach (var t in trainer) model.ReadTrainer(t);          // repeated sub-messages merge in order
        foreach (var n in normalizer) model.ReadNormalizer(n);
        return model;
    }

    static (string, float, SentencePieceType) ParsePiece(ReadOnlySpan<byte> data)
    {
        string text = ""; float score = 0; var type = SentencePieceType.Normal;
        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            var (field, wire) = r.ReadTag();
            if (field == PieceText && wire == 2) text = Encoding.UTF8.GetString(r.ReadBytes());
            else if (field == PieceScore && wire == 5) score = r.ReadFloat();
            else if (field == PieceType && wire == 0) type = (SentencePieceType)(int)r.ReadVarint();
            else r.Skip(wire);
        }
        if (text.Length == 0) throw new InvalidDataException("empty piece");
        if (!Enum.IsDefined(type)) throw new InvalidDataException($"piece '{text}' has unknown type {(int)type}");
        return (text, score, type);
    }

    void ReadTrainer(ReadOnlySpan<byte> data)
    {
        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            var (field, wire) = r.ReadTag();
            if (wire == 0 && field is ModelTypeField or TreatWhitespaceAsSuffixField or ByteFallbackField or UnkIdField or BosIdField or EosIdField or PadIdField)
            {
                long v = (long)r.ReadVarint();
                switch (field)
                {
                    case ModelTypeField: ModelType = (int)v; break;
                    case TreatWhitespaceAsSuffixField: TreatWhitespaceAsSuffix = v != 0; break;
                    case ByteFallbackField: ByteFallback = v != 0; break;
                    case UnkIdField: UnkId = (int)v; break;
                    case BosIdField: BosId = (int)v; break;
                    case EosIdField: EosId = (int)v; break;
                    case PadIdField: PadId = (int)v; break;
                }
            }
            else if (field == UnkSurfaceField && wire == 2) UnkSurface = Encoding.UTF8.GetString(r.ReadBytes());
            else r.Skip(wire);
        }
    }

    void ReadNormalizer(ReadOnlySpan<byte> data)
    {
        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            var (field, wire) = r.ReadTag();
            if (field == NormalizerName && wire == 2) NormalizerRule = Encoding.UTF8.GetString(r.ReadBytes());
            else if (field == PrecompiledCharsmap && wire == 2) PrecompiledCharsMap = r.ReadBytes().ToArray();
            else if (wire == 0 && field is AddDummyPrefixField or RemoveExtraWhitespacesField or EscapeWhitespacesField)
            {
                bool v = r.ReadVarint() != 0;
                if (field == AddDummyPrefixField) AddDummyPrefix = v;
                else if (field == RemoveExtraWhitespacesField) RemoveExtraWhitespaces = v;
                else EscapeWhitespaces = v;
            }
            else r.Skip(wire);
        }
    }

    /// <summary>
    /// The model with <paramref name="added"/> appended as new pieces (ids continue after the last one) and the trainer's
    /// vocab_size updated. The original bytes come first, unchanged.
    /// </summary>
    public byte[] WithAppendedPieces(IReadOnlyList<(string Piece, float Score, SentencePieceType Type)> added)
    {
        var w = new ProtoWriter();
        foreach (var (piece, score, type) in added)
        {
            var p = new ProtoWriter();
            p.String(PieceText, piece);
            p.Float(PieceScore, score);
            if (type != SentencePieceType.Normal) p.Int(PieceType, (int)type);
            w.Bytes(PiecesField, p.ToArray());
        }
        var trainer = new ProtoWriter();
        trainer.Int(VocabSizeField, Pieces.Count + added.Count);
        w.Bytes(TrainerSpecField, trainer.ToArray());
        return [.. Raw, .. w.ToArray()];
    }
}
