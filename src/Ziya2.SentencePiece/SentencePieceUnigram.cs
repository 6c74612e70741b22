using System.Text;

namespace Ziya2.SentencePiece;

/// <summary>
/// SentencePiece's unigram encoder (unigram_model.cc, <c>EncodeOptimized</c>) reproduced rule for rule: the best-scoring
/// segmentation of the normalized text by Viterbi (path scores stored as float, candidates compared in double, as the C++
/// does), candidates tried from the left and by increasing length with strictly-better replacing, user-defined pieces scored
/// <c>bytes × max score − 0.1</c>, unused pieces never emitted, and a character no piece covers taken as unknown at the
/// lowest normal score minus 10, a run of such characters being one unknown piece. Microsoft.ML.Tokenizers 2.0.1's unigram
/// encoder does not merge that run ("世界", both unknown, comes out as "世", "界": 19 of the 989 fixture lines differ).
/// </summary>
public sealed class SentencePieceUnigram
{
    const float UnknownPenalty = 10f;
    readonly SentencePieceModel _model;
    readonly SentencePieceNormalizer _normalizer;
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _pieces;
    readonly int _maxPieceLength;
    readonly float _minScore = float.MaxValue, _maxScore = float.MinValue;
    readonly Dictionary<byte, int> _byteIds = [];

    public SentencePieceUnigram(SentencePieceModel model)
    {
        if (model.ModelType != SentencePieceModel.Unigram) throw new InvalidDataException($"not a unigram SentencePiece model (model_type {model.ModelType})");
        _model = model;
        _normalizer = new SentencePieceNormalizer(model);
        var pieces = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < model.Pieces.Count; id++)
        {
            var (piece, score, type) = model.Pieces[id];
            if (type is SentencePieceType.Normal or SentencePieceType.UserDefined or SentencePieceType.Unused && pieces.TryAdd(piece, id))
                _maxPieceLength = Math.Max(_maxPieceLength, piece.Length);
            if (type == SentencePieceType.Normal) { _minScore = Math.Min(_minScore, score); _maxScore = Math.Max(_maxScore, score); }
            if (type == SentencePieceType.Byte && piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>')
                _byteIds[Convert.ToByte(piece[3..5], 16)] = id;
        }
        _pieces = pieces.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The normalized text SentencePiece segments.</summary>
    public string Normalize(string text) => _normalizer.Normalize(text);

    struct Best { public int Id; public float Score; public int StartsAt; }

    /// <summary>
    /// The pieces of <paramref name="text"/> with their ids, as <c>encode(text, out_type=str)</c> gives them: an unknown
    /// character's piece is its surface with the unknown id (or its UTF-8 byte pieces, with byte fallback).
    /// </summary>
    public List<(string Piece, int Id)> Encode(string text)
    {
        var normalized = _normalizer.Normalize(text);
        var result = new List<(string, int)>();
        if (normalized.Length == 0) return result;
        var s = normalized.AsSpan();
        float unknownScore = _minScore - UnknownPenalty;
        var best = new Best[s.Length + 1];
        for (int i = 1; i < best.Length; i++) best[i].StartsAt = -1;

        for (int start = 0; start < s.Length;)
        {
            float tillHere = best[start].Score;
            int charLength = char.IsHighSurrogate(s[start]) && start + 1 < s.Length && char.IsLowSurrogate(s[start + 1]) ? 2 : 1;
            bool hasSingle = false;
            for (int end = start + 1; end <= s.Length && end - start <= _maxPieceLength; end++)
            {
                if (end < s.Length && char.IsLowSurrogate(s[end]) && char.IsHighSurrogate(s[end - 1])) continue;   // not a character boundary
                if (!_pieces.TryGetValue(s[start..end], out int id)) continue;
                var type = _model.Pieces[id].Type;
                if (type == SentencePieceType.Unused) continue;
                // C++: `user_defined ? length * max_score_ - 0.1 : score` is a double either way, so the candidate is a
                // double compared with the stored float and then stored as float — the rounding decides ties between
                // equal pieces in a different order (a run of 46 dashes: 16 + 15 + 15 or 15 + 15 + 16).
                double score = type == SentencePieceType.UserDefined
                    ? Encoding.UTF8.GetByteCount(s[start..end]) * _maxScore - 0.1
                    : _model.Pieces[id].Score;
                double candidate = score + tillHere;
                ref var target = ref best[end];
                if (target.StartsAt == -1 || candidate > target.Score) target = new Best { Id = id, Score = (float)candidate, StartsAt = start };
                if (end - start == charLength) hasSingle = true;
            }
            if (!hasSingle)
            {
                ref var target = ref best[start + charLength];
                float candidate = unknownScore + tillHere;
                if (target.StartsAt == -1 || candidate > target.Score) target = new Best { Id = _model.UnkId, Score = candidate, StartsAt = start };
            }
            start += charLength;
        }

        for (int end = s.Length; end > 0; end = best[end].StartsAt)
            result.Add((s[best[end].StartsAt..end].ToString(), best[end].Id));
        result.Reverse();
        // A run of unknown characters is one unknown piece (sentencepiece_processor.cc).
        for (int i = result.Count - 1; i > 0; i--)
            if (result[i].Item2 == _model.UnkId && result[i - 1].Item2 == _model.UnkId)
            {
                result[i - 1] = (result[i - 1].Item1 + result[i].Item1, _model.UnkId);
                result.RemoveAt(i);
            }
        return _model.ByteFallback ? ExpandUnknownBytes(result) : result;
    }

    List<(string Piece, int Id)> ExpandUnknownBytes(List<(string Piece, int Id)> pieces)
    {
        var expanded = new List<(string, int)>(pieces.Count);
        foreach (var (piece, id) in pieces)
        {
            if (id != _model.UnkId) { expanded.Add((piece, id)); continue; }
            foreach (var b in Encoding.UTF8.GetBytes(piece))
                expanded.Add(_byteIds.TryGetValue(b, out var byteId) ? (_model.Pieces[byteId].Piece, byteId) : (piece, id));
        }
        return expanded;
    }
}
