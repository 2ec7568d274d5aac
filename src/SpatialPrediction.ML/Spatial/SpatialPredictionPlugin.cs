using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Views;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Spatial;

/// <summary>
/// Spatial Prediction as a plug-in: its own view pairs, head and loss, sharing the host's backbone. A training engine
/// adds <c>Weight * Loss(...)</c> to whatever its host objective computes; nothing else in the host changes. With
/// <see cref="SpatialPredictionSettings.OnHostViews"/> it makes no views: it reads the pooled features of the host's
/// first two views from the host's own forward pass and predicts where the second was cut relative to the first.
/// </summary>
internal sealed class SpatialPredictionPlugin : Training.TrainingTerm
{
    /// <summary>
    /// Assembles the plug-in for a backbone of <paramref name="featureDimension"/> features; <paramref name="host"/> is
    /// the run's host objective, needed (and asked to share its first two views) when SP trains on the host's views.
    /// </summary>
    public SpatialPredictionPlugin(long featureDimension, SpatialPredictionSettings settings, HostObjective? host = null) : base(nameof(SpatialPredictionPlugin))
    {
        settings.Sampler.Validate();
        Settings = settings;
        if (settings.OnHostViews)
        {
            hostCrops = host?.FirstPairCrops ?? throw new ArgumentException(host is null
                ? "SpatialPrediction.OnHostViews needs a host objective (Framework is None): SP then trains on the host's two views."
                : $"SpatialPrediction.OnHostViews: the host {host.GetType().Name} does not share its views.", nameof(settings));
            this.host = host;
            host.SharesFirstPair = true;
            var crops = hostCrops.Crops;
            Standardizer = TargetStandardizer.Estimate(random => new ViewPair(
                crops.Sample(random, TargetStandardizer.EstimationSide, TargetStandardizer.EstimationSide),
                crops.Sample(random, TargetStandardizer.EstimationSide, TargetStandardizer.EstimationSide), random.NextSingle() < 0.5f), settings.Parameterization);
        }
        else
            Standardizer = TargetStandardizer.Estimate(settings.Sampler, settings.Parameterization);
        head = new SpatialPredictionHead(featureDimension, settings.HeadWidth, settings.HeadDepth, settings.ProjectorWidth);
        RegisterComponents();
    }

    private readonly SpatialPredictionHead head;
    private readonly HostObjective? host;
    private readonly CropFamily? hostCrops;

    /// <summary>The settings this plug-in was built with.</summary>
    public SpatialPredictionSettings Settings { get; }
    /// <summary>Target statistics used to standardise the regression targets.</summary>
    public TargetStandardizer Standardizer { get; }
    /// <summary>The regression head.</summary>
    public SpatialPredictionHead Head => head;

    /// <summary>
    /// Draws <see cref="SpatialPredictionSettings.PairsPerImage"/> pairs per picture (boxes in the picture's own pixels),
    /// cuts both views from the picture to the local resolution, augments each view independently (with
    /// <paramref name="augmentation"/>, by default the settings' one), and returns [reference, second] views with the
    /// standardised targets [B·pairs, 4] on <paramref name="device"/>.
    /// </summary>
    public ViewSet MakeViews(PictureBatch pictures, Random random, Device device, PhotometricAugmentation? augmentation)
    {
        augmentation ??= Settings.Augmentation;
        if (hostCrops is not null) return MakeHostLikeViews(pictures, random, device, augmentation);
        int pairs = Settings.PairsPerImage;
        int batch = pictures.Count;
        var referenceBoxes = new ViewBox[batch * pairs];
        var targetBoxes = new ViewBox[batch * pairs];
        var mirrored = new bool[batch * pairs];
        int directions = Settings.PredictsBothDirections ? 2 : 1;
        var standardized = new float[directions * batch * pairs * RelativeBoxTargets.Count];
        for (int i = 0; i < batch * pairs; i++)
        {
            var pair = Settings.Sampler.Sample(random, pictures.Width(i / pairs), pictures.Height(i / pairs));
            referenceBoxes[i] = pair.Reference;
            targetBoxes[i] = pair.Target;
            mirrored[i] = pair.Mirrored;
            Standardizer.Standardize(RelativeBoxTargets.Compute(pair, Settings.Parameterization),
                standardized.AsSpan(i * RelativeBoxTargets.Count, RelativeBoxTargets.Count));
            if (directions == 2) // A relative to B, in the rows after every B-relative-to-A row
                Standardizer.Standardize(RelativeBoxTargets.Compute(pair with { Reference = pair.Target, Target = pair.Reference }, Settings.Parameterization),
                    standardized.AsSpan((batch * pairs + i) * RelativeBoxTargets.Count, RelativeBoxTargets.Count));
        }

        using var scope = NewDisposeScope();
        using var source = pictures.Repeat(pairs);
        var reference = augmentation.Apply(Cut(source, referenceBoxes, mirrored, device), random);
        var target = augmentation.Apply(Cut(source, targetBoxes, mirrored, device), random);
        var targets = tensor(standardized, new long[] { directions * batch * pairs, RelativeBoxTargets.Count }, device: device);
        return new ViewSet(new[] { reference.MoveToOuterDisposeScope(), target.MoveToOuterDisposeScope() }, targets.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// On the host's views, pairs cut as the host cuts its first two views (its crops, its resolution, each mirrored with
    /// probability ½): what the SP validation loss is measured on, since in training the host makes the views.
    /// </summary>
    private ViewSet MakeHostLikeViews(PictureBatch pictures, Random random, Device device, PhotometricAugmentation augmentation)
    {
        using var scope = NewDisposeScope();
        var views = new List<Tensor>();
        var geometry = new List<ViewGeometry>();
        for (int v = 0; v < 2; v++)
        {
            var boxes = new ViewBox[pictures.Count];
            var mirrored = new bool[pictures.Count];
            for (int i = 0; i < pictures.Count; i++)
            {
                boxes[i] = hostCrops!.Crops.Sample(random, pictures.Width(i), pictures.Height(i));
                mirrored[i] = random.NextSingle() < 0.5f;
            }
            views.Add(augmentation.Apply(ViewCropper.Crop(pictures, boxes, mirrored, hostCrops!.Resolution, device: device), random).MoveToOuterDisposeScope());
            geometry.Add(new ViewGeometry(boxes, mirrored));
        }
        return new ViewSet(views, geometry: geometry);
    }

    /// <summary>
    /// Standardised targets [B·directions, 4] of the second view relative to the first, from where they were cut: in the
    /// frame the first view is seen in (both boxes mirrored when it was shown mirrored; the second view's own mirroring
    /// is part of what it shows, not of where it is).
    /// </summary>
    internal Tensor TargetsOf(ViewGeometry first, ViewGeometry second, Device device)
    {
        int batch = first.Boxes.Length;
        int directions = Settings.PredictsBothDirections ? 2 : 1;
        var standardized = new float[directions * batch * RelativeBoxTargets.Count];
        for (int i = 0; i < batch; i++)
        {
            Standardizer.Standardize(RelativeBoxTargets.Compute(new ViewPair(first.Boxes[i], second.Boxes[i], first.Mirrored[i]), Settings.Parameterization),
                standardized.AsSpan(i * RelativeBoxTargets.Count, RelativeBoxTargets.Count));
            if (directions == 2)
                Standardizer.Standardize(RelativeBoxTargets.Compute(new ViewPair(second.Boxes[i], first.Boxes[i], second.Mirrored[i]), Settings.Parameterization),
                    standardized.AsSpan((batch + i) * RelativeBoxTargets.Count, RelativeBoxTargets.Count));
        }
        return tensor(standardized, new long[] { directions * batch, RelativeBoxTargets.Count }, device: device);
    }

    /// <summary>
    /// Cuts the boxes to the local resolution. With <see cref="SpatialPredictionSettings.DetailResolution"/> set, each
    /// crop is first reduced (antialiased) to that side and enlarged back, so every view carries the same detail: a small
    /// box is not visibly blurrier than a large one, and scale cannot be read from sharpness or aliasing.
    /// </summary>
    internal Tensor Cut(PictureBatch pictures, ViewBox[] boxes, bool[] mirrored, Device? device = null)
        => ViewCropper.Crop(pictures, boxes, mirrored, Settings.LocalResolution, Settings.DetailResolution, device);

    /// <inheritdoc />
    public override string TermName => "SP";

    /// <summary>
    /// The views with the settings' augmentation (see <see cref="MakeViews(PictureBatch, Random, Device, PhotometricAugmentation?)"/>);
    /// none on the host's views, which the host makes.
    /// </summary>
    public override ViewSet MakeViews(PictureBatch pictures, Random random, Device device)
        => host is not null ? ViewSet.None() : MakeViews(pictures, random, device, null);

    /// <inheritdoc />
    public override IEnumerable<BackbonePass> BackbonePasses(int batch)
        => host is not null ? Array.Empty<BackbonePass>() : new[] { new BackbonePass(2 * batch * Settings.PairsPerImage, Settings.LocalResolution, Backward: true) };

    /// <summary>
    /// SP loss on views made by <see cref="MakeViews(PictureBatch, Random, Device)"/>: both views go through the shared
    /// backbone in one batch. On the host's views (an empty set) it reads the features the host's loss has just computed.
    /// </summary>
    public override Tensor Loss(BackboneModule backbone, ViewSet views)
    {
        Tensor features;
        Tensor targets;
        if (views.Views.Count == 0)
        {
            var pair = host?.FirstPair ?? throw new InvalidOperationException(
                "SP on the host's views found no shared pair: the host's loss must run first, in the same step.");
            features = pair.Features;
            targets = TargetsOf(pair.First, pair.Second, features.device);
        }
        else
        {
            using (Settings.UpdatesBatchNormStatistics ? null : BatchNormRunningStatistics.Paused(backbone))
                features = backbone.forward(cat(new[] { views.Views[0], views.Views[1] }, 0));
            targets = views.Targets ?? TargetsOf(views.Geometry![0], views.Geometry[1], features.device);
        }
        float scale = Settings.BackboneGradientScale;
        // Same values forward; backward, only `scale` of the gradient reaches the backbone.
        if (scale != 1f) features = scale == 0f ? features.detach() : features * scale + features.detach() * (1f - scale);
        var embeddings = features.chunk(2, 0);
        var predicted = Settings.PredictsBothDirections
            ? cat(new[] { head.forward(embeddings[0], embeddings[1]), head.forward(embeddings[1], embeddings[0]) }, 0)
            : head.forward(embeddings[0], embeddings[1]);
        return Settings.Loss.Compute(predicted, targets);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) head.Dispose();
        base.Dispose(disposing);
    }
}
