namespace SpatialPrediction.ML.Interop.Onnx;

/// <summary>
/// Reads and writes ONNX files (ModelProto) with this library's own protobuf code, field numbers as in onnx.proto. Data
/// only: an ONNX file holds operators and numbers, and nothing in it is executed while reading.
/// </summary>
public static class OnnxFile
{
    /// <summary>Largest file read (2 GB, protobuf's own limit).</summary>
    public const long MaxBytes = int.MaxValue;

    /// <summary>Reads the graph of the model at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">Not an ONNX model, or one with tensors of unsupported types; the message names the file.</exception>
    public static OnnxGraph Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX file '{path}' does not exist.", path);
        long length = new FileInfo(path).Length;
        if (length > MaxBytes) throw new InvalidDataException($"{path}: {length} bytes is more than an ONNX protobuf can hold.");
        try
        {
            return Parse(File.ReadAllBytes(path));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: not a readable ONNX model ({e.Message}).", e);
        }
    }

    /// <summary>Parses ModelProto bytes.</summary>
    public static OnnxGraph Parse(ReadOnlyMemory<byte> model)
    {
        ReadOnlyMemory<byte>? graph = null;
        long opset = 0;
        string producer = "";
        bool sawIrVersion = false;
        foreach (var field in ProtobufReader.Fields(model))
        {
            switch (field.Number)
            {
                case 1 when field.WireType == ProtobufField.Varint: sawIrVersion = true; break;
                case 2 when field.WireType == ProtobufField.LengthDelimited: producer = field.Text; break;
                case 7 when field.WireType == ProtobufField.LengthDelimited: graph = field.Bytes; break;
                case 8 when field.WireType == ProtobufField.LengthDelimited:
                    string domain = "";
                    long version = 0;
                    foreach (var f in ProtobufReader.Fields(field.Bytes))
                    {
                        if (f.Number == 1 && f.WireType == ProtobufField.LengthDelimited) domain = f.Text;
                        if (f.Number == 2 && f.WireType == ProtobufField.Varint) version = f.Int64;
                    }
                    if (domain is "" or "ai.onnx") opset = version;
                    break;
            }
        }
        if (!sawIrVersion || graph is null) throw new InvalidDataException("no ir_version or no graph: not an ONNX ModelProto");

        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var inputs = new List<OnnxValue>();
        var outputs = new List<OnnxValue>();
        foreach (var field in ProtobufReader.Fields(graph.Value))
        {
            if (field.WireType != ProtobufField.LengthDelimited) continue;
            switch (field.Number)
            {
                case 1: nodes.Add(ReadNode(field.Bytes)); break;
                case 5:
                    var tensor = ReadTensor(field.Bytes);
                    initializers[tensor.Name] = tensor;
                    break;
                case 11: inputs.Add(ReadValue(field.Bytes)); break;
                case 12: outputs.Add(ReadValue(field.Bytes)); break;
            }
        }
        // Older exporters list initialisers among the graph inputs too; they are weights, not inputs.
        inputs.RemoveAll(i => initializers.ContainsKey(i.Name));
        return new OnnxGraph(nodes, initializers, inputs, outputs, opset, producer);
    }

    private static OnnxNode ReadNode(ReadOnlyMemory<byte> bytes)
    {
        string name = "", op = "";
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
        foreach (var f in ProtobufReader.Fields(bytes))
        {
            if (f.WireType != ProtobufField.LengthDelimited) continue;
            switch (f.Number)
            {
                case 1: inputs.Add(f.Text); break;
                case 2: outputs.Add(f.Text); break;
                case 3: name = f.Text; break;
                case 4: op = f.Text; break;
                case 5:
                    var attribute = ReadAttribute(f.Bytes);
                    attributes[attribute.Name] = attribute;
                    break;
            }
        }
        if (op.Length == 0) throw new InvalidDataException($"node '{name}' has no op_type");
        return new OnnxNode(name, op, inputs, outputs, attributes);
    }

    private static OnnxAttribute ReadAttribute(ReadOnlyMemory<byte> bytes)
    {
        string name = "";
        long? integer = null;
        float? number = null;
        string? text = null;
        OnnxTensor? tensor = null;
        var ints = new List<long>();
        var floats = new List<float>();
        foreach (var f in ProtobufReader.Fields(bytes))
        {
            switch (f.Number)
            {
                case 1: name = f.Text; break;
                case 2: number = f.Float; break;
                case 3: integer = f.Int64; break;
                case 4: text = f.Text; break;
                case 5: tensor = ReadTensor(f.Bytes); break;
                case 7: floats.AddRange(ProtobufReader.Floats(f)); break;
                case 8: ints.AddRange(ProtobufReader.Int64s(f)); break;
            }
        }
        return new OnnxAttribute(name, integer, number, ints.Count > 0 ? ints : null, floats.Count > 0 ? floats : null, text, tensor);
    }

    private static OnnxTensor ReadTensor(ReadOnlyMemory<byte> bytes)
    {
        string name = "";
        int type = 0;
        var dims = new List<long>();
        ReadOnlyMemory<byte>? raw = null;
        var floats = new List<float>();
        var longs = new List<long>();
        foreach (var f in ProtobufReader.Fields(bytes))
        {
            switch (f.Number)
            {
                case 1: dims.AddRange(ProtobufReader.Int64s(f)); break;
                case 2: type = (int)f.Int64; break;
                case 4: floats.AddRange(ProtobufReader.Floats(f)); break;
                case 7: longs.AddRange(ProtobufReader.Int64s(f)); break;
                case 8: name = f.Text; break;
                case 9: raw = f.Bytes; break;
            }
        }
        if (dims.Any(d => d < 0)) throw new InvalidDataException($"tensor '{name}' has a negative dimension [{string.Join(", ", dims)}]");
        long count;
        try
        {
            count = dims.Aggregate(1L, (a, b) => checked(a * b));
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"tensor '{name}' has dims [{string.Join(", ", dims)}] whose product overflows");
        }
        switch (type)
        {
            case OnnxGraph.Float32:
                var values = raw is { } r ? Cast<float>(r, name, count, 4) : floats.ToArray();
                if (values.Length != count) throw new InvalidDataException($"tensor '{name}': dims [{string.Join(", ", dims)}] need {count} floats, the file holds {values.Length}");
                return new OnnxTensor(name, dims, FloatData: values);
            case OnnxGraph.Int64:
                var integers = raw is { } r64 ? Cast<long>(r64, name, count, 8) : longs.ToArray();
                if (integers.Length != count) throw new InvalidDataException($"tensor '{name}': dims [{string.Join(", ", dims)}] need {count} int64 values, the file holds {integers.Length}");
                return new OnnxTensor(name, dims, Int64Data: integers);
            default:
                throw new InvalidDataException($"tensor '{name}' has ONNX data type {type}; only float32 (1) and int64 (7) are read");
        }
    }

    private static T[] Cast<T>(ReadOnlyMemory<byte> raw, string name, long count, int size) where T : struct
    {
        if (raw.Length != count * size) throw new InvalidDataException($"tensor '{name}': {raw.Length} raw bytes for {count} values of {size} bytes");
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(raw.Span).ToArray();
    }

    private static OnnxValue ReadValue(ReadOnlyMemory<byte> bytes)
    {
        string name = "";
        int elementType = 0;
        var dims = new List<long>();
        foreach (var f in ProtobufReader.Fields(bytes))
        {
            if (f.Number == 1 && f.WireType == ProtobufField.LengthDelimited) name = f.Text;
            if (f.Number != 2 || f.WireType != ProtobufField.LengthDelimited) continue;
            foreach (var typeField in ProtobufReader.Fields(f.Bytes))
            {
                if (typeField.Number != 1 || typeField.WireType != ProtobufField.LengthDelimited) continue; // tensor_type
                foreach (var tensorField in ProtobufReader.Fields(typeField.Bytes))
                {
                    if (tensorField.Number == 1 && tensorField.WireType == ProtobufField.Varint) elementType = (int)tensorField.Int64;
                    if (tensorField.Number != 2 || tensorField.WireType != ProtobufField.LengthDelimited) continue;
                    foreach (var dim in ProtobufReader.Fields(tensorField.Bytes))
                    {
                        if (dim.Number != 1 || dim.WireType != ProtobufField.LengthDelimited) continue;
                        long value = -1;
                        foreach (var d in ProtobufReader.Fields(dim.Bytes))
                            if (d.Number == 1 && d.WireType == ProtobufField.Varint) value = d.Int64;
                        dims.Add(value);
                    }
                }
            }
        }
        return new OnnxValue(name, elementType, dims);
    }
}
