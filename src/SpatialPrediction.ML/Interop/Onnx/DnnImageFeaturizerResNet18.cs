using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Interop.Onnx;

/// <summary>
/// The ImageNet ResNet-18 that ML.NET ships in the NuGet package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>
/// (0.23.1; MIT), as a backbone module for <see cref="SpatialBackbone.ImageNetResNet18"/>: offline, from the two ONNX files the package copies next to the
/// application (<c>DnnImageModels/ResNet18Onnx/ResNet18.onnx</c> and <c>DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx</c>).
/// The model was exported from CNTK: node names are generic and batch norms are separate nodes, so the graph is walked
/// in order — the 7×7 and 3×3 convolutions are the stem and the blocks' convolutions in TorchVision's order, the 1×1
/// convolutions the shortcuts of stages 2–4, each followed by its batch norm — and every tensor is checked against our
/// <see cref="ResNet"/> before anything is copied. Its last stage has three blocks, not TorchVision's two
/// (<see cref="BackboneKind.CntkResNet18"/>). CNTK's asymmetric paddings (3 before, 2 after for the 7×7/2 stem; 1 and 0
/// for the 3×3/2 convolutions and the max-pool) give the same outputs as the symmetric ones at even input sizes: the
/// extra trailing pad is never reached by a window. The preprocessing graph (RGB → BGR, minus a per-pixel mean image,
/// on 0–255 values) becomes <see cref="InputNormalization.BgrMeanImage"/> with the mean image as a buffer.
/// </summary>
internal static class DnnImageFeaturizerResNet18
{
    /// <summary>The NuGet package the ONNX files come from.</summary>
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>The package version whose models the import is checked against.</summary>
    public const string PackageVersion = "0.23.1";

    /// <summary>
    /// Where the models are looked for: <c>DnnImageModels</c> next to the application (the package copies them there),
    /// else the package's own copy in NuGet's global packages folder (<c>NUGET_PACKAGES</c>, default
    /// <c>~/.nuget/packages</c>) — what a notebook or a script run without a build of its own has.
    /// </summary>
    public static string DefaultModelFolder
    {
        get
        {
            var candidates = ModelFolderCandidates();
            return candidates.FirstOrDefault(HasModels) ?? candidates[0];
        }
    }

    private static IReadOnlyList<string> ModelFolderCandidates()
        => ModelFolderCandidates(AppContext.BaseDirectory, Environment.GetEnvironmentVariable("NUGET_PACKAGES"),
            Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>The folders searched, in order, for an application in <paramref name="applicationFolder"/>.</summary>
    internal static IReadOnlyList<string> ModelFolderCandidates(string applicationFolder, string? nugetPackages, string userProfile)
    {
        string packages = nugetPackages is { Length: > 0 } ? nugetPackages : Path.Combine(userProfile, ".nuget", "packages");
        return new[]
        {
            Path.Combine(applicationFolder, "DnnImageModels"),
            Path.Combine(packages, PackageId.ToLowerInvariant(), PackageVersion, "tools", "DnnImageModels"),
        };
    }

    internal static bool HasModels(string folder) => File.Exists(Path.Combine(folder, "ResNet18Onnx", "ResNet18.onnx"));

    /// <summary>Reads both ONNX files and returns the backbone module (input side 224 px, features 512), its spec and where it came from.</summary>
    /// <param name="modelFolder">The <c>DnnImageModels</c> folder; default <see cref="DefaultModelFolder"/>.</param>
    /// <exception cref="FileNotFoundException">A file is missing; the message says which package provides it.</exception>
    /// <exception cref="InvalidDataException">A file is not the expected graph; the message says what was expected.</exception>
    public static (BackboneModule Module, BackboneSpec Spec, string Origin) Load(string? modelFolder = null)
    {
        bool searched = modelFolder is null;
        modelFolder ??= DefaultModelFolder;
        string model = Path.Combine(modelFolder, "ResNet18Onnx", "ResNet18.onnx");
        string preprocess = Path.Combine(modelFolder, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        foreach (var path in new[] { model, preprocess })
            if (!File.Exists(path))
                throw new FileNotFoundException($"{path} not found{(searched ? $" (looked in {string.Join(" and ", ModelFolderCandidates())})" : "")}. Reference the " +
                                                $"NuGet package {PackageId} {PackageVersion} in the application (it copies DnnImageModels/ to the output " +
                                                "folder) or pass the folder that holds it.", path);

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            AddMeanImage(OnnxFile.Read(preprocess), preprocess, tensors);
            AddNetwork(OnnxFile.Read(model), model, tensors);
            var spec = new BackboneSpec(BackboneKind.CntkResNet18, ImageSize: 224, Normalization: InputNormalization.BgrMeanImage);
            var module = BackboneFactory.Create(spec);
            try
            {
                WeightImport.Into(module, spec.Kind, tensors, WeightNaming.TorchvisionResNet, allowMissing: false, model);
                module.eval();
                return (module, spec, $"ImageNet (CNTK), imported from {PackageId} 0.23.1");
            }
            catch
            {
                module.Dispose();
                throw;
            }
        }
        finally
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
    }

    private static void AddMeanImage(OnnxGraph graph, string path, Dictionary<string, Tensor> tensors)
    {
        // Expected: Split(RGB) → Concat(B, G, R) → Sub(·, MeanImage[1, 3, 224, 224]).
        var ops = graph.Nodes.Select(n => n.OpType).ToList();
        var sub = graph.Nodes.LastOrDefault(n => n.OpType == "Sub");
        if (!ops.SequenceEqual(new[] { "Split", "Concat", "Sub" }) || sub is null || sub.Inputs.Count != 2
            || !graph.Initializers.TryGetValue(sub.Inputs[1], out var mean) || mean.FloatData is null
            || !mean.Dims.SequenceEqual(new long[] { 1, 3, BackboneModule.MeanImageSize, BackboneModule.MeanImageSize }))
            throw new InvalidDataException($"{path}: expected the ResNet preprocessing graph (Split, Concat, Sub of a 1×3×224×224 mean image); " +
                                           $"found {string.Join(", ", ops)}.");
        var concat = graph.Nodes[1];
        var split = graph.Nodes[0];
        if (!concat.Inputs.SequenceEqual(split.Outputs.Reverse()))
            throw new InvalidDataException($"{path}: the preprocessing does not reverse the channels (RGB → BGR) as expected.");
        tensors["input_mean"] = tensor(mean.FloatData, mean.Dims.ToArray());
    }

    private static void AddNetwork(OnnxGraph graph, string path, Dictionary<string, Tensor> tensors)
    {
        var producedBy = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        foreach (var output in node.Outputs)
            producedBy[output] = node;
        var batchNormOf = graph.Nodes.Where(n => n.OpType == "BatchNormalization" && n.Inputs.Count == 5)
            .ToDictionary(n => n.Inputs[0], StringComparer.Ordinal);
        var convolutions = graph.Nodes.Where(n => n.OpType == "Conv").ToList();
        var main = convolutions.Where(c => Weight(graph, c, path).Dims[2] != 1).ToList();
        var shortcuts = convolutions.Where(c => Weight(graph, c, path).Dims[2] == 1).ToList();
        if (main.Count != 19 || shortcuts.Count != 3 || graph.Nodes.Count(n => n.OpType == "Add") != 9 || graph.Nodes[^1].OpType != "AveragePool")
            throw new InvalidDataException($"{path}: expected the CNTK ResNet-18 (19 convolutions 3×3 or 7×7, 3 shortcut convolutions 1×1, 9 residual additions, " +
                                           $"average pooling last); found {main.Count}, {shortcuts.Count}, {graph.Nodes.Count(n => n.OpType == "Add")} " +
                                           $"and {graph.Nodes[^1].OpType} last.");

        var names = new List<(OnnxNode Conv, string Conv2dName, string BatchNormName)> { (main[0], "conv1", "bn1") };
        int index = 1;
        for (int layer = 1; layer <= 4; layer++)
        for (int block = 0; block < (layer == 4 ? 3 : 2); block++)
        for (int conv = 1; conv <= 2; conv++)
            names.Add((main[index++], $"layer{layer}.{block}.conv{conv}", $"layer{layer}.{block}.bn{conv}"));
        for (int layer = 2; layer <= 4; layer++)
            names.Add((shortcuts[layer - 2], $"layer{layer}.0.downsample.0", $"layer{layer}.0.downsample.1"));

        foreach (var (conv, convName, bnName) in names)
        {
            if (conv.Inputs.Count != 2) throw new InvalidDataException($"{path}: convolution {conv.Name} has a bias or no weight; ResNet-18's have a weight only.");
            if (!batchNormOf.TryGetValue(conv.Outputs[0], out var bn))
                throw new InvalidDataException($"{path}: convolution {conv.Name} is not followed by a batch norm.");
            float epsilon = bn.Float("epsilon", 1e-5f);
            if (Math.Abs(epsilon - 1e-5f) > 1e-9f)
                throw new InvalidDataException($"{path}: batch norm {bn.Name} has epsilon {epsilon}; our ResNet uses 1e-5.");
            tensors[$"{convName}.weight"] = ToTensor(Weight(graph, conv, path));
            string[] parts = { "weight", "bias", "running_mean", "running_var" };
            for (int p = 0; p < 4; p++)
            {
                if (!graph.Initializers.TryGetValue(bn.Inputs[p + 1], out var value) || value.FloatData is null)
                    throw new InvalidDataException($"{path}: batch norm {bn.Name} input {bn.Inputs[p + 1]} is not a float initialiser.");
                tensors[$"{bnName}.{parts[p]}"] = ToTensor(value);
            }
            tensors[$"{bnName}.num_batches_tracked"] = tensor(0L);
        }
    }

    private static OnnxTensor Weight(OnnxGraph graph, OnnxNode conv, string path)
        => conv.Inputs.Count >= 2 && graph.Initializers.TryGetValue(conv.Inputs[1], out var weight) && weight.FloatData is not null && weight.Dims.Count == 4
            ? weight
            : throw new InvalidDataException($"{path}: convolution {conv.Name} has no 4-d float weight initialiser.");

    private static Tensor ToTensor(OnnxTensor value) => tensor(value.FloatData!, value.Dims.ToArray());
}
