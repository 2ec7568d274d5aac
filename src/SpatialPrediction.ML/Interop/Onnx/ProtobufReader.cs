namespace SpatialPrediction.ML.Interop.Onnx;

/// <summary>One field of a protobuf message: its number, and either a scalar (varint, fixed32, fixed64) or bytes.</summary>
internal readonly record struct ProtobufField(int Number, int WireType, ulong Scalar, ReadOnlyMemory<byte> Bytes)
{
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    public long Int64 => (long)Scalar;
    public float Float => BitConverter.Int32BitsToSingle((int)(uint)Scalar);
    public string Text => System.Text.Encoding.UTF8.GetString(Bytes.Span);
}

/// <summary>
/// The protobuf wire format, read-only and schema-free: enough to walk ONNX's ModelProto. Every length is checked against
/// the bytes left, so a damaged file ends in <see cref="InvalidDataException"/>, never in a huge allocation.
/// </summary>
internal static class ProtobufReader
{
    /// <summary>The fields of one message, in file order.</summary>
    public static IEnumerable<ProtobufField> Fields(ReadOnlyMemory<byte> message)
    {
        int position = 0;
        while (position < message.Length)
        {
            ulong key = ReadVarint(message.Span, ref position);
            int number = (int)(key >> 3), wire = (int)(key & 7);
            if (number <= 0) throw new InvalidDataException($"protobuf field number {number} at byte {position}.");
            switch (wire)
            {
                case ProtobufField.Varint:
                    yield return new ProtobufField(number, wire, ReadVarint(message.Span, ref position), default);
                    break;
                case ProtobufField.Fixed64:
                    Need(message.Length, position, 8);
                    yield return new ProtobufField(number, wire, BitConverter.ToUInt64(message.Span.Slice(position, 8)), default);
                    position += 8;
                    break;
                case ProtobufField.Fixed32:
                    Need(message.Length, position, 4);
                    yield return new ProtobufField(number, wire, BitConverter.ToUInt32(message.Span.Slice(position, 4)), default);
                    position += 4;
                    break;
                case ProtobufField.LengthDelimited:
                    ulong length = ReadVarint(message.Span, ref position);
                    if (length > (ulong)(message.Length - position))
                        throw new InvalidDataException($"protobuf field {number} claims {length} bytes, {message.Length - position} remain.");
                    yield return new ProtobufField(number, wire, length, message.Slice(position, (int)length));
                    position += (int)length;
                    break;
                default:
                    throw new InvalidDataException($"protobuf wire type {wire} (field {number}) is not supported.");
            }
        }
    }

    /// <summary>A repeated int64 field, packed (bytes) or not (one varint).</summary>
    public static IEnumerable<long> Int64s(ProtobufField field)
    {
        if (field.WireType == ProtobufField.Varint)
        {
            yield return field.Int64;
            yield break;
        }
        int position = 0;
        var bytes = field.Bytes;
        while (position < bytes.Length) yield return (long)ReadVarint(bytes.Span, ref position);
    }

    /// <summary>A repeated float field, packed (bytes) or not (one fixed32).</summary>
    public static float[] Floats(ProtobufField field)
    {
        if (field.WireType == ProtobufField.Fixed32) return new[] { field.Float };
        if (field.Bytes.Length % 4 != 0) throw new InvalidDataException($"packed floats of {field.Bytes.Length} bytes.");
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(field.Bytes.Span).ToArray();
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int position)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= bytes.Length) throw new InvalidDataException("protobuf message ends inside a varint.");
            byte b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new InvalidDataException("protobuf varint longer than 10 bytes.");
    }

    private static void Need(int length, int position, int count)
    {
        if (length - position < count) throw new InvalidDataException($"protobuf message ends {count - (length - position)} bytes early.");
    }
}
