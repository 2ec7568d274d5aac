using Google.Protobuf;
using SpatialPrediction.ML.Interop.Onnx.Proto;

namespace SpatialPrediction.ML.Interop.Onnx;

/// <summary>
/// Builds an ONNX graph node by node (each call returns the name of the node's output) and writes it as a ModelProto
/// (IR version 8, default-domain opset 17). Names are generated, so graphs read like the module tree that made them.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    public const long IrVersion = 8, Opset = 17;

    private readonly GraphProto graph = new();
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private int counter;

    /// <summary>A float32 initialiser with the given dims; returns its name.</summary>
    public string Constant(string name, float[] values, params long[] dims)
        => Initializer(name, OnnxGraph.Float32, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()), dims);

    /// <summary>An int64 initialiser (shapes, indices, axes); returns its name.</summary>
    public string Int64s(string name, long[] values, params long[] dims)
        => Initializer(name, OnnxGraph.Int64, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()), dims);

    private string Initializer(string name, int type, ReadOnlySpan<byte> raw, long[] dims)
    {
        name = Unique(name);
        var tensor = new TensorProto { Name = name, DataType = type, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.AddRange(dims);
        graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>Adds a node of <paramref name="op"/>; returns the name of its (first) output.</summary>
    public string Node(string op, string[] inputs, params (string Name, object Value)[] attributes)
        => NamedNode(Unique($"{op.ToLowerInvariant()}_{counter++}"), op, inputs, attributes);

    /// <summary>Adds a node whose output has the given name (a graph output).</summary>
    public string NamedNode(string output, string op, string[] inputs, params (string Name, object Value)[] attributes)
    {
        names.Add(output);
        var node = new NodeProto { Name = output, OpType = op };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        foreach (var (name, value) in attributes)
        {
            var attribute = new AttributeProto { Name = name };
            switch (value)
            {
                case float f: attribute.F = f; attribute.Type = AttributeProto.Types.AttributeType.Float; break;
                case long i: attribute.I = i; attribute.Type = AttributeProto.Types.AttributeType.Int; break;
                case int i: attribute.I = i; attribute.Type = AttributeProto.Types.AttributeType.Int; break;
                case long[] ints: attribute.Ints.AddRange(ints); attribute.Type = AttributeProto.Types.AttributeType.Ints; break;
                default: throw new ArgumentException($"Attribute {name} has unsupported type {value.GetType().Name}.");
            }
            node.Attribute.Add(attribute);
        }
        graph.Node.Add(node);
        return output;
    }

    /// <summary>The ModelProto: one input [batch, dims...] (float, or <paramref name="inputType"/>) and one float output [batch, dims...].</summary>
    public byte[] Build(string graphName, string input, long[] inputDims, string output, long[] outputDims, string producer, string documentation,
        int inputType = OnnxGraph.Float32)
    {
        graph.Name = graphName;
        graph.Input.Clear();
        graph.Output.Clear();
        graph.Input.Add(Value(input, inputDims, inputType));
        graph.Output.Add(Value(output, outputDims));
        var model = new ModelProto { IrVersion = IrVersion, ProducerName = producer, DocString = documentation, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model.ToByteArray();
    }

    private static ValueInfoProto Value(string name, long[] dims, int type = OnnxGraph.Float32)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" }); // symbolic batch dimension
        foreach (long dim in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dim });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = type, Shape = shape } } };
    }

    private string Unique(string name)
    {
        string candidate = name;
        for (int i = 1; !names.Add(candidate); i++) candidate = $"{name}_{i}";
        return candidate;
    }
}
