using System.Text.Json;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Interop;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Training;
using SpatialPrediction.ML.Views;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Interop.PythonCompanion;

/// <summary>One configuration the Python companion must reproduce.</summary>
/// <param name="Name">Shown in test names.</param>
/// <param name="Spec">The backbone.</param>
/// <param name="Host">SimClr, Dino, MoCoV3 or Byol.</param>
/// <param name="Options">The SP options (their defaults are the library's, so a changed default changes the fixture only).</param>
public sealed record ParityCase(string Name, BackboneSpec Spec, SslFramework Host, SpatialPredictionOptions Options)
{
    internal SpatialPredictionSettings Spatial => Options.ToSettings();

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>
/// Writes what the .NET implementation computes from pinned inputs into one safetensors file: images, SP boxes and
/// photometric parameters (pinned, since random streams are not shared across languages), crops, targets, augmented
/// views, the full weights of backbone, host and SP head, features, both losses, the gradients and the weights after one
/// AdamW step. The Python side (python/tests/test_parity.py) recomputes each from the inputs and compares.
/// </summary>
internal static class ParityFixture
{
    public const int Batch = 6;
    public const double LearningRate = 1e-3, WeightDecay = 0.05, TeacherMomentum = 0.99;

    public static void Write(ParityCase @case, string path)
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var random = new Random(11);
        var spec = @case.Spec;
        var spatial = @case.Spatial;
        int size = spec.ImageSize;
        var tensors = new Dictionary<string, Tensor>();
        var images = rand(Batch, 3, size, size);
        tensors["images"] = images;

        using var backbone = BackboneFactory.Create(spec);
        using var plugin = new SpatialPredictionPlugin(backbone.FeatureDimension, spatial);
        int localCrops = 2, localSize = size / 2;
        using HostObjective host = @case.Host switch
        {
            SslFramework.SimClr => new SimClrObjective(backbone.FeatureDimension, size),
            SslFramework.Dino => new DinoObjective(backbone, () => BackboneFactory.Create(spec), size, localCrops, localSize),
            SslFramework.MoCoV3 => new MoCoV3Objective(backbone, () => BackboneFactory.Create(spec), size),
            SslFramework.Byol => new ByolObjective(backbone, () => BackboneFactory.Create(spec), size),
            _ => throw new ArgumentOutOfRangeException(nameof(@case), @case.Host, "The companion has SimClr, Dino, MoCoV3 and Byol."),
        };
        float lambda = HostRegistry.For(@case.Host)!.SpatialWeight;

        // A plain crop, as the hosts' views use it.
        using var pictures = PictureBatch.Of(images);
        var cropBoxes = Enumerable.Range(0, Batch).Select(_ => new RandomResizedCropSampler(0.2f, 1f).Sample(random, size, size)).ToArray();
        var cropFlips = Enumerable.Range(0, Batch).Select(i => i % 2 == 0).ToArray();
        tensors["crop.boxes"] = Boxes(cropBoxes);
        tensors["crop.flips"] = Flags(cropFlips);
        tensors["crop.output"] = ViewCropper.Crop(pictures, cropBoxes, cropFlips, size);

        // SP's views and targets from pinned pairs and photometric parameters.
        var pairs = Enumerable.Range(0, Batch).Select(_ => spatial.Sampler.Sample(random, size, size)).ToArray();
        var reference = pairs.Select(p => p.Reference).ToArray();
        var second = pairs.Select(p => p.Target).ToArray();
        var mirrored = pairs.Select(p => p.Mirrored).ToArray();
        var raw = pairs.SelectMany(p => RelativeBoxTargets.Compute(p, spatial.Parameterization)).ToArray();
        var standardized = new float[raw.Length];
        for (int i = 0; i < Batch; i++) plugin.Standardizer.Standardize(raw.AsSpan(i * 4, 4), standardized.AsSpan(i * 4, 4));
        tensors["sp.reference_boxes"] = Boxes(reference);
        tensors["sp.second_boxes"] = Boxes(second);
        tensors["sp.mirrored"] = Flags(mirrored);
        tensors["sp.targets"] = tensor(raw, new long[] { Batch, 4 });
        tensors["sp.standardized"] = tensor(standardized, new long[] { Batch, 4 });
        tensors["sp.standardizer_mean"] = tensor(plugin.Standardizer.Mean);
        tensors["sp.standardizer_std"] = tensor(plugin.Standardizer.Std);
        var referenceCrops = plugin.Cut(pictures, reference, mirrored);
        var secondCrops = plugin.Cut(pictures, second, mirrored);
        tensors["sp.reference_crops"] = referenceCrops;
        tensors["sp.second_crops"] = secondCrops;
        var referenceViews = Augment(spatial.Augmentation, referenceCrops, random, "sp.reference_photometric", tensors);
        var secondViews = Augment(spatial.Augmentation, secondCrops, random, "sp.second_photometric", tensors);
        tensors["sp.reference_views"] = referenceViews;
        tensors["sp.second_views"] = secondViews;
        var spatialViews = new ViewSet(new[] { referenceViews, secondViews }, tensor(standardized, new long[] { Batch, 4 }));

        // The host's own views, passed as tensors: their crops are the function checked above.
        var hostViews = host.MakeViews(pictures, random, CPU);
        for (int v = 0; v < hostViews.Views.Count; v++) tensors[$"host.view{v}"] = hostViews.Views[v];

        AddState(tensors, "before.", backbone, host, plugin);
        backbone.eval();
        using (no_grad()) tensors["features"] = backbone.forward(images);
        backbone.train();
        host.train();
        plugin.train();

        var parameters = backbone.parameters().Concat(host.TrainableParameters()).Concat(plugin.parameters()).ToList();
        using var optimizer = optim.AdamW(parameters, lr: LearningRate, weight_decay: WeightDecay);
        optimizer.zero_grad();
        var hostLoss = host.Loss(backbone, hostViews);
        var spatialLoss = plugin.Loss(backbone, spatialViews);
        tensors["loss.host"] = hostLoss.detach().reshape(1);
        tensors["loss.spatial"] = spatialLoss.detach().reshape(1);
        (hostLoss + spatialLoss * lambda).backward();
        var named = Named(backbone, host, plugin);
        foreach (var (name, value) in named.Where(n => n.Value is TorchSharp.Modules.Parameter { requires_grad: true }))
            tensors["grad." + name] = value.grad!.clone();
        var settings = new PretrainingSettings { GradientClipNorm = 3.0 };
        var (norm, _) = SpatialPretrainer.Clip(settings, parameters, new[] { parameters });
        tensors["gradient_norm"] = tensor(new[] { norm });
        optimizer.step();
        host.UpdateTeacher(backbone, TeacherMomentum);
        AddState(tensors, "after.", backbone, host, plugin);

        var metadata = new Dictionary<string, string>
        {
            ["case"] = JsonSerializer.Serialize(new
            {
                name = @case.Name, kind = spec.Kind.ToString(), width = spec.Width, patch_size = spec.PatchSize, image_size = size,
                host = @case.Host.ToString().ToLowerInvariant(), spatial_weight = lambda,
                local_resolution = spatial.LocalResolution, detail_resolution = spatial.DetailResolution,
                projector_width = spatial.ProjectorWidth, head_width = spatial.HeadWidth, head_depth = spatial.HeadDepth,
                parameterization = spatial.Parameterization == TargetParameterization.ReferenceRelative ? "reference-relative" : "image-normalized",
                local_crops = localCrops, local_size = localSize, learning_rate = LearningRate, weight_decay = WeightDecay,
                clip = 3.0, teacher_momentum = TeacherMomentum, batch = Batch,
            }),
        };
        SafetensorsFile.Write(path, tensors, metadata);
        hostViews.Dispose();
    }

    private static Tensor Augment(PhotometricAugmentation augmentation, Tensor crops, Random random, string prefix, Dictionary<string, Tensor> tensors)
    {
        var drawn = augmentation.Draw(crops.shape[0], random);
        tensors[prefix + ".brightness"] = tensor(drawn.Brightness);
        tensors[prefix + ".contrast"] = tensor(drawn.Contrast);
        tensors[prefix + ".saturation"] = tensor(drawn.Saturation);
        tensors[prefix + ".hue_rotation"] = tensor(drawn.HueRotation, new long[] { drawn.Count, 3, 3 });
        tensors[prefix + ".gray"] = tensor(drawn.Gray);
        tensors[prefix + ".blur_sigma"] = tensor(drawn.BlurSigma);
        return PhotometricAugmentation.Apply(crops, drawn);
    }

    private static Dictionary<string, Tensor> Named(BackboneModule backbone, HostObjective host, SpatialPredictionPlugin plugin)
    {
        var all = new Dictionary<string, Tensor>();
        foreach (var (prefix, module) in new (string, nn.Module)[] { ("backbone.", backbone), ("host.", host), ("plugin.", plugin) })
        foreach (var (name, value) in module.named_parameters()) all[prefix + name] = value;
        return all;
    }

    private static void AddState(Dictionary<string, Tensor> tensors, string prefix, BackboneModule backbone, HostObjective host, SpatialPredictionPlugin plugin)
    {
        foreach (var (part, module) in new (string, nn.Module)[] { ("backbone.", backbone), ("host.", host), ("plugin.", plugin) })
        foreach (var (name, value) in module.state_dict()) tensors[prefix + part + name] = value.detach().clone();
    }

    private static Tensor Boxes(IReadOnlyList<ViewBox> boxes)
        => tensor(boxes.SelectMany(b => new[] { b.CenterX, b.CenterY, b.Width, b.Height }).ToArray(), new long[] { boxes.Count, 4 });

    private static Tensor Flags(IReadOnlyList<bool> flags) => tensor(flags.Select(f => f ? (byte)1 : (byte)0).ToArray());
}
