using Google.Protobuf;
using SpatialPrediction.ML.Interop.Onnx.Proto;

namespace SpatialPrediction.ML.Interop.Onnx;

/// <summary>
/// Reads ONNX files (ModelProto) with Google.Protobuf and classes generated from <c>onnx.proto</c>, into the graph
/// records this library works with. Data only: an ONNX file holds operators and numbers, and nothing in it is executed
/// while reading.
/// </summary>
internal static class OnnxFile
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
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(model.Span);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"not a protobuf ModelProto: {e.Message}", e);
        }
        if (!proto.HasIrVersion || proto.Graph is null) throw new InvalidDataException("no ir_version or no graph: not an ONNX ModelProto");
        long opset = proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).LastOrDefault();

        var graph = proto.Graph;
        var initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        foreach (var tensor in graph.Initializer.Select(ReadTensor)) initializers[tensor.Name] = tensor;
        var nodes = graph.Node.Select(ReadNode).ToList();
        // Older exporters list initialisers among the graph inputs too; they are weights, not inputs.
        var inputs = graph.Input.Select(ReadValue).Where(i => !initializers.ContainsKey(i.Name)).ToList();
        var outputs = graph.Output.Select(ReadValue).ToList();
        return new OnnxGraph(nodes, initializers, inputs, outputs, opset, proto.ProducerName);
    }

    private static OnnxNode ReadNode(NodeProto node)
    {
        if (node.OpType.Length == 0) throw new InvalidDataException($"node '{node.Name}' has no op_type");
        var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
        foreach (var a in node.Attribute)
            attributes[a.Name] = new OnnxAttribute(a.Name, a.HasI ? a.I : null, a.HasF ? a.F : null, a.Ints.Count > 0 ? a.Ints.ToList() : null,
                a.Floats.Count > 0 ? a.Floats.ToList() : null, a.HasS ? a.S.ToStringUtf8() : null, a.T is null ? null : ReadTensor(a.T));
        return new OnnxNode(node.Name, node.OpType, node.Input.ToList(), node.Output.ToList(), attributes);
    }

    private static OnnxTensor ReadTensor(TensorProto t)
    {
        string name = t.Name;
        var dims = t.Dims.ToList();
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
        // Some exporters write an empty raw_data next to float_data; only a non-empty one holds the values.
        ReadOnlyMemory<byte>? raw = t.RawData.Length > 0 ? t.RawData.Memory : (ReadOnlyMemory<byte>?)null;
        switch (t.DataType)
        {
            case OnnxGraph.Float32:
                var values = raw is { } r ? Cast<float>(r, name, count, 4) : t.FloatData.ToArray();
                if (values.Length != count) throw new InvalidDataException($"tensor '{name}': dims [{string.Join(", ", dims)}] need {count} floats, the file holds {values.Length}");
                return new OnnxTensor(name, dims, FloatData: values);
            case OnnxGraph.Int64:
                var integers = raw is { } r64 ? Cast<long>(r64, name, count, 8) : t.Int64Data.ToArray();
                if (integers.Length != count) throw new InvalidDataException($"tensor '{name}': dims [{string.Join(", ", dims)}] need {count} int64 values, the file holds {integers.Length}");
                return new OnnxTensor(name, dims, Int64Data: integers);
            default:
                throw new InvalidDataException($"tensor '{name}' has ONNX data type {t.DataType}; only float32 (1) and int64 (7) are read");
        }
    }

    private static T[] Cast<T>(ReadOnlyMemory<byte> raw, string name, long count, int size) where T : struct
    {
        if (raw.Length != count * size) throw new InvalidDataException($"tensor '{name}': {raw.Length} raw bytes for {count} values of {size} bytes");
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(raw.Span).ToArray();
    }

    private static OnnxValue ReadValue(ValueInfoProto value)
    {
        var tensor = value.Type?.TensorType;
        var dims = tensor?.Shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1L).ToList() ?? new List<long>();
        return new OnnxValue(value.Name, tensor?.ElemType ?? 0, dims);
    }
}
