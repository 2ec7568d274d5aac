using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Interop.Onnx;

/// <summary>
/// Writes a frozen backbone as an ONNX model (opset 17) that ONNX Runtime, ML.NET's <c>ApplyOnnxModel</c> or any other
/// engine can run: input <c>[batch, 3, S, S]</c> float RGB pixels on the 0–255 scale (what ML.NET's <c>ExtractPixels</c>
/// gives, S the backbone's image size), output <c>[batch, D]</c> features. The backbone's input normalisation is part of
/// the graph; batch norms are exported as inference-mode <c>BatchNormalization</c> nodes with their running statistics.
/// The graph is written from the module's named weights and its architecture (strides and stage boundaries), so every
/// weight has a place and every place a weight; the parity tests run the result in ONNX Runtime.
/// </summary>
internal static class OnnxBackboneExport
{
    private const float BatchNormEpsilon = 1e-5f, LayerNormEpsilon = 1e-6f;

    /// <summary>
    /// The ONNX model bytes for <paramref name="module"/> at input side <paramref name="imageSize"/>; with
    /// <paramref name="byteInput"/> the input is the pixels as bytes (uint8), cast to float as the graph's first node.
    /// </summary>
    public static byte[] Export(BackboneModule module, int imageSize, string inputName, string outputName, string documentation, bool byteInput = false)
    {
        if (!module.Accepts(imageSize))
            throw new ArgumentException($"The {module.Kind} backbone does not take {imageSize} px inputs.", nameof(imageSize));
        var weights = module.state_dict().ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var graph = new OnnxGraphBuilder();
        string pixels = byteInput ? graph.Node("Cast", new[] { inputName }, ("to", (long)OnnxGraph.Float32)) : inputName;
        string x = Normalize(graph, module, pixels, imageSize, weights, used);
        string features = module.Kind switch
        {
            BackboneKind.VitTiny or BackboneKind.VitSmall => VisionTransformer(graph, (VisionTransformer)module, x, weights, used),
            _ => ResNet(graph, module.Kind, x, weights, used),
        };
        graph.NamedNode(outputName, "Identity", new[] { features });
        var unused = weights.Keys.Where(k => !used.Contains(k) && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToList();
        if (unused.Count > 0)
            throw new InvalidOperationException($"ONNX export of {module.Kind} left weights unused: {string.Join(", ", unused.Take(5))}. The exporter does not know this architecture.");
        return graph.Build(module.Kind.ToString(), inputName, new long[] { 3, imageSize, imageSize }, outputName, new long[] { module.FeatureDimension },
            "SpatialPrediction.ML", documentation, byteInput ? OnnxGraph.UInt8 : OnnxGraph.Float32);
    }

    private static string Normalize(OnnxGraphBuilder g, BackboneModule module, string input, int size, Dictionary<string, Tensor> weights, HashSet<string> used)
    {
        // The same arithmetic as BackboneModule.Normalize after the featuriser's division by 255.
        var x = g.Node("Div", new[] { input, g.Constant("scale_255", new[] { 255f }) });
        if (module.Normalization == InputNormalization.BgrMeanImage)
        {
            used.Add("input_mean");
            using var scope = NewDisposeScope();
            var mean = weights["input_mean"];
            if (size != BackboneModule.MeanImageSize)
                mean = nn.functional.interpolate(mean, new long[] { size, size }, mode: InterpolationMode.Bilinear, align_corners: false);
            x = g.Node("Gather", new[] { x, g.Int64s("bgr_order", new long[] { 2, 1, 0 }, 3) }, ("axis", 1L));
            x = g.Node("Mul", new[] { x, g.Constant("scale_255_back", new[] { 255f }) });
            return g.Node("Sub", new[] { x, g.Constant("input_mean", Values(mean), 1, 3, size, size) });
        }
        x = g.Node("Sub", new[] { x, g.Constant("imagenet_mean", new[] { 0.485f, 0.456f, 0.406f }, 1, 3, 1, 1) });
        return g.Node("Div", new[] { x, g.Constant("imagenet_std", new[] { 0.229f, 0.224f, 0.225f }, 1, 3, 1, 1) });
    }

    private static string ResNet(OnnxGraphBuilder g, BackboneKind kind, string x, Dictionary<string, Tensor> weights, HashSet<string> used)
    {
        var depths = BackboneRegistry.For(kind).StageBlocks ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a ResNet.");
        if (kind == BackboneKind.SmallResNet)
        {
            x = g.Node("Relu", new[] { BatchNorm(g, Conv(g, x, "stem.0", 1, weights, used), "stem.1", weights, used) });
        }
        else
        {
            x = g.Node("Relu", new[] { BatchNorm(g, Conv(g, x, "stem.0", 2, weights, used), "stem.1", weights, used) });
            x = g.Node("MaxPool", new[] { x }, ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }));
        }
        int block = 0;
        for (int stage = 0; stage < 4; stage++)
        for (int b = 0; b < depths[stage]; b++, block++)
        {
            int stride = stage > 0 && b == 0 ? 2 : 1;
            string p = $"stages.{block}.";
            string y;
            if (kind == BackboneKind.ResNet50)
            {
                y = g.Node("Relu", new[] { BatchNorm(g, Conv(g, x, p + "body.0", 1, weights, used), p + "body.1", weights, used) });
                y = g.Node("Relu", new[] { BatchNorm(g, Conv(g, y, p + "body.3", stride, weights, used), p + "body.4", weights, used) });
                y = BatchNorm(g, Conv(g, y, p + "body.6", 1, weights, used), p + "body.7", weights, used);
            }
            else
            {
                y = g.Node("Relu", new[] { BatchNorm(g, Conv(g, x, p + "conv1", stride, weights, used), p + "bn1", weights, used) });
                y = BatchNorm(g, Conv(g, y, p + "conv2", 1, weights, used), p + "bn2", weights, used);
            }
            string shortcut = weights.ContainsKey(p + "shortcut.0.weight")
                ? BatchNorm(g, Conv(g, x, p + "shortcut.0", stride, weights, used), p + "shortcut.1", weights, used)
                : x;
            x = g.Node("Relu", new[] { g.Node("Add", new[] { y, shortcut }) });
        }
        return g.Node("Flatten", new[] { g.Node("GlobalAveragePool", new[] { x }) }, ("axis", 1L));
    }

    private static string Conv(OnnxGraphBuilder g, string x, string name, int stride, Dictionary<string, Tensor> weights, HashSet<string> used)
    {
        var weight = Take(weights, used, name + ".weight");
        long kernel = weight.shape[2], pad = kernel / 2;
        var inputs = new List<string> { x, g.Constant(name + ".weight", Values(weight), weight.shape) };
        if (weights.ContainsKey(name + ".bias")) inputs.Add(Weight(g, weights, used, name + ".bias"));
        return g.Node("Conv", inputs.ToArray(), ("kernel_shape", new[] { kernel, kernel }), ("strides", new long[] { stride, stride }),
            ("pads", new[] { pad, pad, pad, pad }));
    }

    private static string BatchNorm(OnnxGraphBuilder g, string x, string name, Dictionary<string, Tensor> weights, HashSet<string> used)
        => g.Node("BatchNormalization", new[]
        {
            x, Weight(g, weights, used, name + ".weight"), Weight(g, weights, used, name + ".bias"),
            Weight(g, weights, used, name + ".running_mean"), Weight(g, weights, used, name + ".running_var"),
        }, ("epsilon", BatchNormEpsilon));

    private static string VisionTransformer(OnnxGraphBuilder g, VisionTransformer vit, string x, Dictionary<string, Tensor> weights, HashSet<string> used)
    {
        int heads = vit.Kind == BackboneKind.VitTiny ? 3 : 6;
        long width = vit.FeatureDimension, headWidth = width / heads;
        // Patches: [B, D, h, w] → [B, h·w, D]; class token in front; learned positions (the export runs at the trained grid).
        var patches = g.Node("Conv", new[] { x, Weight(g, weights, used, "patchEmbedding.weight"), Weight(g, weights, used, "patchEmbedding.bias") },
            ("kernel_shape", new long[] { vit.PatchSize, vit.PatchSize }), ("strides", new long[] { vit.PatchSize, vit.PatchSize }));
        var tokens = g.Node("Transpose", new[] { g.Node("Reshape", new[] { patches, g.Int64s("patch_shape", new[] { 0, width, -1 }, 3) }) },
            ("perm", new long[] { 0, 2, 1 }));
        var batch = g.Node("Slice", new[] { g.Node("Shape", new[] { tokens }), g.Int64s("zero", new long[] { 0 }, 1), g.Int64s("one", new long[] { 1 }, 1) });
        var classShape = g.Node("Concat", new[] { batch, g.Int64s("class_token_tail", new[] { 1, width }, 2) }, ("axis", 0L));
        var classTokens = g.Node("Expand", new[] { Weight(g, weights, used, "classToken"), classShape });
        tokens = g.Node("Concat", new[] { classTokens, tokens }, ("axis", 1L));
        tokens = g.Node("Add", new[] { tokens, Weight(g, weights, used, "positions") });

        var qkvShape = g.Int64s("qkv_shape", new[] { 0, 0, 3, heads, headWidth }, 5);
        var tokenShape = g.Int64s("token_shape", new[] { 0, 0, width }, 3);
        var scale = g.Constant("attention_scale", new[] { (float)(1.0 / Math.Sqrt(headWidth)) });
        for (int i = 0; ; i++)
        {
            string p = $"blocks.{i}.";
            if (!weights.ContainsKey(p + "norm1.weight")) break;
            // Attention: qkv → [3, B, heads, T, d]; softmax(q kᵀ · scale) v; heads merged; projection.
            var qkv = Linear(g, LayerNorm(g, tokens, p + "norm1", weights, used), p + "attention.qkv", weights, used);
            var parts = g.Node("Transpose", new[] { g.Node("Reshape", new[] { qkv, qkvShape }) }, ("perm", new long[] { 2, 0, 3, 1, 4 }));
            string Part(long index) => g.Node("Gather", new[] { parts, g.Int64s($"index_{index}", new[] { index }) }, ("axis", 0L));
            string q = Part(0), k = Part(1), v = Part(2);
            var scores = g.Node("Mul", new[] { g.Node("MatMul", new[] { q, g.Node("Transpose", new[] { k }, ("perm", new long[] { 0, 1, 3, 2 })) }), scale });
            var mixed = g.Node("MatMul", new[] { g.Node("Softmax", new[] { scores }, ("axis", -1L)), v });
            mixed = g.Node("Reshape", new[] { g.Node("Transpose", new[] { mixed }, ("perm", new long[] { 0, 2, 1, 3 })), tokenShape });
            tokens = g.Node("Add", new[] { tokens, Linear(g, mixed, p + "attention.projection", weights, used) });
            // MLP with exact (erf) GELU, as TorchSharp's nn.GELU computes it.
            var hidden = Linear(g, LayerNorm(g, tokens, p + "norm2", weights, used), p + "mlp.0", weights, used);
            var erf = g.Node("Erf", new[] { g.Node("Div", new[] { hidden, g.Constant("sqrt2", new[] { MathF.Sqrt(2) }) }) });
            var gelu = g.Node("Mul", new[] { g.Node("Mul", new[] { hidden, g.Node("Add", new[] { erf, g.Constant("gelu_one", new[] { 1f }) }) }), g.Constant("gelu_half", new[] { 0.5f }) });
            tokens = g.Node("Add", new[] { tokens, Linear(g, gelu, p + "mlp.2", weights, used) });
        }
        tokens = LayerNorm(g, tokens, "norm", weights, used);
        return g.Node("Gather", new[] { tokens, g.Int64s("class_index", new[] { 0L }) }, ("axis", 1L));
    }

    private static string LayerNorm(OnnxGraphBuilder g, string x, string name, Dictionary<string, Tensor> weights, HashSet<string> used)
        => g.Node("LayerNormalization", new[] { x, Weight(g, weights, used, name + ".weight"), Weight(g, weights, used, name + ".bias") },
            ("axis", -1L), ("epsilon", LayerNormEpsilon));

    private static string Linear(OnnxGraphBuilder g, string x, string name, Dictionary<string, Tensor> weights, HashSet<string> used)
    {
        using var scope = NewDisposeScope();
        var weight = Take(weights, used, name + ".weight").t().contiguous(); // MatMul wants [in, out]
        var product = g.Node("MatMul", new[] { x, g.Constant(name + ".weight", Values(weight), weight.shape) });
        return g.Node("Add", new[] { product, Weight(g, weights, used, name + ".bias") });
    }

    private static string Weight(OnnxGraphBuilder g, Dictionary<string, Tensor> weights, HashSet<string> used, string name)
    {
        var value = Take(weights, used, name);
        return g.Constant(name, Values(value), value.shape);
    }

    private static Tensor Take(Dictionary<string, Tensor> weights, HashSet<string> used, string name)
    {
        if (!weights.TryGetValue(name, out var value))
            throw new InvalidOperationException($"ONNX export: the backbone has no weight '{name}'. The exporter does not know this architecture.");
        used.Add(name);
        return value;
    }

    private static float[] Values(Tensor value) => value.detach().cpu().contiguous().to_type(ScalarType.Float32).data<float>().ToArray();
}
