using System.Runtime.InteropServices;
using System.Text;

namespace SpatialPrediction.ML.Interop.Onnx;

/// <summary>The protobuf wire format, write side: one message into a buffer; nested messages are written whole, then embedded.</summary>
internal sealed class ProtobufWriter
{
    private readonly MemoryStream buffer = new();

    public byte[] ToArray() => buffer.ToArray();

    public ProtobufWriter Varint(int field, long value)
    {
        Key(field, ProtobufField.Varint);
        Raw((ulong)value);
        return this;
    }

    public ProtobufWriter Float(int field, float value)
    {
        Key(field, ProtobufField.Fixed32);
        buffer.Write(BitConverter.GetBytes(value));
        return this;
    }

    public ProtobufWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Key(field, ProtobufField.LengthDelimited);
        Raw((ulong)value.Length);
        buffer.Write(value);
        return this;
    }

    public ProtobufWriter Text(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtobufWriter Message(int field, Action<ProtobufWriter> write)
    {
        var inner = new ProtobufWriter();
        write(inner);
        return Bytes(field, inner.ToArray());
    }

    public ProtobufWriter PackedInt64s(int field, IEnumerable<long> values)
    {
        var inner = new ProtobufWriter();
        foreach (long value in values) inner.Raw((ulong)value);
        return Bytes(field, inner.ToArray());
    }

    public ProtobufWriter PackedFloats(int field, IReadOnlyList<float> values)
        => Bytes(field, MemoryMarshal.AsBytes(values.ToArray().AsSpan()));

    private void Key(int field, int wireType) => Raw((ulong)((field << 3) | wireType));

    private void Raw(ulong value)
    {
        while (value >= 0x80)
        {
            buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        buffer.WriteByte((byte)value);
    }
}
