namespace SpatialPrediction.ML.Interop.Onnx;

/// <summary>
/// Builds an ONNX graph node by node (each call returns the name of the node's output) and writes it as a ModelProto
/// (IR version 8, default-domain opset 17). Names are generated, so graphs read like the module tree that made them.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    public const long IrVersion = 8, Opset = 17;

    private readonly List<byte[]> nodes = new();
    private readonly List<byte[]> initializers = new();
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private int counter;

    /// <summary>A float32 initialiser with the given dims; returns its name.</summary>
    public string Constant(string name, float[] values, params long[] dims)
    {
        name = Unique(name);
        initializers.Add(new ProtobufWriter().PackedInt64s(1, dims).Varint(2, OnnxGraph.Float32).Text(8, name)
            .Bytes(9, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())).ToArray());
        return name;
    }

    /// <summary>An int64 initialiser (shapes, indices, axes); returns its name.</summary>
    public string Int64s(string name, long[] values, params long[] dims)
    {
        name = Unique(name);
        initializers.Add(new ProtobufWriter().PackedInt64s(1, dims).Varint(2, OnnxGraph.Int64).Text(8, name)
            .Bytes(9, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())).ToArray());
        return name;
    }

    /// <summary>Adds a node of <paramref name="op"/>; returns the name of its (first) output.</summary>
    public string Node(string op, string[] inputs, params (string Name, object Value)[] attributes)
        => NamedNode(Unique($"{op.ToLowerInvariant()}_{counter++}"), op, inputs, attributes);

    /// <summary>Adds a node whose output has the given name (a graph output).</summary>
    public string NamedNode(string output, string op, string[] inputs, params (string Name, object Value)[] attributes)
    {
        names.Add(output);
        var node = new ProtobufWriter();
        foreach (var input in inputs) node.Text(1, input);
        node.Text(2, output).Text(3, output).Text(4, op);
        foreach (var (name, value) in attributes)
        {
            node.Message(5, a =>
            {
                a.Text(1, name);
                switch (value)
                {
                    case float f: a.Float(2, f).Varint(20, 1); break;
                    case long i: a.Varint(3, i).Varint(20, 2); break;
                    case int i: a.Varint(3, i).Varint(20, 2); break;
                    case long[] ints: a.PackedInt64s(8, ints).Varint(20, 7); break;
                    default: throw new ArgumentException($"Attribute {name} has unsupported type {value.GetType().Name}.");
                }
            });
        }
        nodes.Add(node.ToArray());
        return output;
    }

    /// <summary>The ModelProto: one float input [batch, dims...] and one float output [batch, dims...].</summary>
    public byte[] Build(string graphName, string input, long[] inputDims, string output, long[] outputDims, string producer, string documentation)
    {
        var model = new ProtobufWriter()
            .Varint(1, IrVersion)
            .Text(2, producer)
            .Text(6, documentation)
            .Message(8, o => o.Text(1, "").Varint(2, Opset));
        model.Message(7, g =>
        {
            foreach (var node in nodes) g.Bytes(1, node);
            g.Text(2, graphName);
            foreach (var initializer in initializers) g.Bytes(5, initializer);
            g.Message(11, v => Value(v, input, inputDims));
            g.Message(12, v => Value(v, output, outputDims));
        });
        return model.ToArray();
    }

    private static void Value(ProtobufWriter value, string name, long[] dims)
        => value.Text(1, name).Message(2, type => type.Message(1, tensor => tensor
            .Varint(1, OnnxGraph.Float32)
            .Message(2, shape =>
            {
                shape.Message(1, d => d.Text(2, "batch")); // symbolic batch dimension
                foreach (long dim in dims) shape.Message(1, d => d.Varint(1, dim));
            })));

    private string Unique(string name)
    {
        string candidate = name;
        for (int i = 1; !names.Add(candidate); i++) candidate = $"{name}_{i}";
        return candidate;
    }
}
