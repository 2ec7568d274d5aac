namespace SpatialPrediction.ML.Interop.Onnx;

/// <summary>An attribute of an ONNX node: a number, a list of numbers, text or a tensor.</summary>
internal sealed record OnnxAttribute(string Name, long? Int = null, float? Float = null, IReadOnlyList<long>? Ints = null,
    IReadOnlyList<float>? Floats = null, string? Text = null, OnnxTensor? Tensor = null);

/// <summary>One operator of an ONNX graph.</summary>
internal sealed record OnnxNode(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, OnnxAttribute> Attributes)
{
    /// <summary>An integer attribute, or <paramref name="fallback"/>.</summary>
    public long Int(string name, long fallback) => Attributes.TryGetValue(name, out var a) && a.Int is long v ? v : fallback;
    /// <summary>A float attribute, or <paramref name="fallback"/>.</summary>
    public float Float(string name, float fallback) => Attributes.TryGetValue(name, out var a) && a.Float is float v ? v : fallback;
    /// <summary>An integer-list attribute, or <paramref name="fallback"/>.</summary>
    public IReadOnlyList<long> Ints(string name, params long[] fallback) => Attributes.TryGetValue(name, out var a) && a.Ints is { } v ? v : fallback;
}

/// <summary>A float32 or int64 tensor of an ONNX file (weights, constants).</summary>
internal sealed record OnnxTensor(string Name, IReadOnlyList<long> Dims, float[]? FloatData = null, long[]? Int64Data = null)
{
    /// <summary>Number of elements the dims describe.</summary>
    public long ElementCount => Dims.Aggregate(1L, (a, b) => a * b);
}

/// <summary>A graph input or output: name, element type (ONNX's TensorProto.DataType) and dims (-1 where symbolic).</summary>
internal sealed record OnnxValue(string Name, int ElementType, IReadOnlyList<long> Dims);

/// <summary>
/// The parts of an ONNX model this library reads and writes: operators in graph order, initialisers, graph inputs and
/// outputs, and the opset. Only float32 and int64 tensors are read (what CNN and ViT weights use); anything else is
/// reported, not guessed.
/// </summary>
internal sealed record OnnxGraph(IReadOnlyList<OnnxNode> Nodes, IReadOnlyDictionary<string, OnnxTensor> Initializers,
    IReadOnlyList<OnnxValue> Inputs, IReadOnlyList<OnnxValue> Outputs, long OpsetVersion, string Producer)
{
    /// <summary>ONNX TensorProto.DataType values used here.</summary>
    public const int Float32 = 1, UInt8 = 2, Int64 = 7;
}
