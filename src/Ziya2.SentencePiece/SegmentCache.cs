namespace Ziya2.SentencePiece;

/// <summary>
/// Segments already encoded, and their ids, in fixed arrays: an open-addressing table over a character arena and an id
/// arena, emptied when any of them is full. Unlike a dictionary of strings it allocates nothing once made, so a corpus
/// streamed through the encoder leaves the garbage collector, and the process's memory, alone.
/// </summary>
sealed class SegmentCache
{
    const int Entries = 1 << 14, Slots = Entries * 2, ArenaChars = Entries * 16, ArenaIds = Entries * 16;
    readonly int[] _slots = new int[Slots];   // entry + 1; 0: empty
    readonly uint[] _hashes = new uint[Entries];
    readonly int[] _charStart = new int[Entries], _idStart = new int[Entries + 1];
    readonly byte[] _charLength = new byte[Entries];
    readonly char[] _chars = new char[ArenaChars];
    readonly int[] _ids = new int[ArenaIds];
    int _count, _charsUsed;

    /// <summary>Segments up to this long are kept (longer ones rarely recur).</summary>
    public const int MaxLength = 32;

    static uint Hash(ReadOnlySpan<char> key)
    {
        uint h = 2166136261;   // FNV-1a over the UTF-16 units
        foreach (char c in key) h = (h ^ c) * 16777619;
        return h;
    }

    public bool TryGet(ReadOnlySpan<char> key, out ReadOnlySpan<int> ids)
    {
        uint hash = Hash(key);
        for (int slot = (int)(hash & (Slots - 1)); _slots[slot] != 0; slot = (slot + 1) & (Slots - 1))
        {
            int e = _slots[slot] - 1;
            if (_hashes[e] == hash && _charLength[e] == key.Length && key.SequenceEqual(_chars.AsSpan(_charStart[e], key.Length)))
            {
                ids = _ids.AsSpan(_idStart[e], _idStart[e + 1] - _idStart[e]);
                return true;
            }
        }
        ids = default;
        return false;
    }

    public void Add(ReadOnlySpan<char> key, ReadOnlySpan<int> ids)
    {
        if (key.Length > MaxLength || ids.Length > ArenaIds / 4) return;
        if (_count == Entries || _charsUsed + key.Length > ArenaChars || _idStart[_count] + ids.Length > ArenaIds) Clear();
        uint hash = Hash(key);
        int slot = (int)(hash & (Slots - 1));
        while (_slots[slot] != 0) slot = (slot + 1) & (Slots - 1);
        int e = _count++;
        _hashes[e] = hash;
        _charStart[e] = _charsUsed;
        _charLength[e] = (byte)key.Length;
        key.CopyTo(_chars.AsSpan(_charsUsed));
        _charsUsed += key.Length;
        ids.CopyTo(_ids.AsSpan(_idStart[e]));
        _idStart[e + 1] = _idStart[e] + ids.Length;
        _slots[slot] = e + 1;
    }

    void Clear()
    {
        Array.Clear(_slots);
        _count = 0;
        _charsUsed = 0;
    }
}
