using System.Buffers.Binary;
using System.Text;

namespace Ziya2.SentencePiece;

/// <summary>
/// The few protobuf wire-format operations a SentencePiece <c>.model</c> needs. Reading is bounds-checked: a damaged
/// file raises <see cref="InvalidDataException"/>, never an out-of-range read.
/// </summary>
ref struct ProtoReader(ReadOnlySpan<byte> data)
{
    readonly ReadOnlySpan<byte> _data = data;
    int _pos;

    public bool AtEnd => _pos >= _data.Length;

    public (int Field, int WireType) ReadTag()
    {
        ulong tag = ReadVarint();
        return ((int)(tag >> 3), (int)(tag & 7));
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_pos >= _data.Length) throw new InvalidDataException("truncated varint");
            byte b = _data[_pos++];
            result |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new InvalidDataException("varint too long");
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _pos)) throw new InvalidDataException("length-delimited field runs past the end");
        var span = _data.Slice(_pos, (int)length);
        _pos += (int)length;
        return span;
    }

    public float ReadFloat()
    {
        if (_pos + 4 > _data.Length) throw new InvalidDataException("truncated float");
        var v = BinaryPrimitives.ReadSingleLittleEndian(_data[_pos..]);
        _pos += 4;
        return v;
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0: ReadVarint(); break;
            case 1: Advance(8); break;
            case 2: ReadBytes(); break;
            case 5: Advance(4); break;
            default: throw new InvalidDataException($"unsupported wire type {wireType}");
        }
    }

    void Advance(int n)
    {
        if (_pos + n > _data.Length) throw new InvalidDataException("truncated field");
        _pos += n;
    }
}

/// <summary>Appends protobuf fields.</summary>
sealed class ProtoWriter
{
    readonly MemoryStream _out = new();

    public byte[] ToArray() => _out.ToArray();

    public void Varint(ulong v)
    {
        while (v >= 0x80) { _out.WriteByte((byte)(v | 0x80)); v >>= 7; }
        _out.WriteByte((byte)v);
    }

    public void Tag(int field, int wireType) => Varint(((ulong)field << 3) | (uint)wireType);
    public void String(int field, string s) => Bytes(field, Encoding.UTF8.GetBytes(s));

    public void Bytes(int field, ReadOnlySpan<byte> b)
    {
        Tag(field, 2);
        Varint((ulong)b.Length);
        _out.Write(b);
    }

    public void Float(int field, float v)
    {
        Tag(field, 5);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, v);
        _out.Write(b);
    }

    public void Int(int field, long v) { Tag(field, 0); Varint((ulong)v); }
}
