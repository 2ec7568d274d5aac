using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Views;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Spatial;

/// <summary>
/// Spatial Prediction as a plug-in: its own view pairs, head and loss, sharing the host's backbone. A training engine
/// adds <c>Weight * Loss(...)</c> to whatever its host objective computes; nothing else in the host changes.
/// </summary>
internal sealed class SpatialPredictionPlugin : Training.TrainingTerm
{
    /// <summary>Assembles the plug-in for a backbone of <paramref name="featureDimension"/> features.</summary>
    public SpatialPredictionPlugin(long featureDimension, SpatialPredictionSettings settings) : base(nameof(SpatialPredictionPlugin))
    {
        settings.Sampler.Validate();
        Settings = settings;
        Standardizer = TargetStandardizer.Estimate(settings.Sampler, settings.Parameterization);
        head = new SpatialPredictionHead(featureDimension, settings.HeadWidth, settings.HeadDepth, settings.ProjectorWidth);
        RegisterComponents();
    }

    private readonly SpatialPredictionHead head;

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
    /// Cuts the boxes to the local resolution. With <see cref="SpatialPredictionSettings.DetailResolution"/> set, each
    /// crop is first reduced (antialiased) to that side and enlarged back, so every view carries the same detail: a small
    /// box is not visibly blurrier than a large one, and scale cannot be read from sharpness or aliasing.
    /// </summary>
    internal Tensor Cut(PictureBatch pictures, ViewBox[] boxes, bool[] mirrored, Device? device = null)
        => ViewCropper.Crop(pictures, boxes, mirrored, Settings.LocalResolution, Settings.DetailResolution, device);

    /// <inheritdoc />
    public override string TermName => "SP";

    /// <summary>The views with the settings' augmentation (see <see cref="MakeViews(PictureBatch, Random, Device, PhotometricAugmentation?)"/>).</summary>
    public override ViewSet MakeViews(PictureBatch pictures, Random random, Device device) => MakeViews(pictures, random, device, null);

    /// <inheritdoc />
    public override IEnumerable<BackbonePass> BackbonePasses(int batch)
        => new[] { new BackbonePass(2 * batch * Settings.PairsPerImage, Settings.LocalResolution, Backward: true) };

    /// <summary>SP loss on views made by <see cref="MakeViews(PictureBatch, Random, Device)"/>: both views go through the shared backbone in one batch.</summary>
    public override Tensor Loss(BackboneModule backbone, ViewSet views)
    {
        Tensor features;
        using (Settings.UpdatesBatchNormStatistics ? null : BatchNormRunningStatistics.Paused(backbone))
            features = backbone.forward(cat(new[] { views.Views[0], views.Views[1] }, 0));
        float scale = Settings.BackboneGradientScale;
        // Same values forward; backward, only `scale` of the gradient reaches the backbone.
        if (scale != 1f) features = scale == 0f ? features.detach() : features * scale + features.detach() * (1f - scale);
        var embeddings = features.chunk(2, 0);
        var predicted = Settings.PredictsBothDirections
            ? cat(new[] { head.forward(embeddings[0], embeddings[1]), head.forward(embeddings[1], embeddings[0]) }, 0)
            : head.forward(embeddings[0], embeddings[1]);
        return Settings.Loss.Compute(predicted, views.Targets!);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) head.Dispose();
        base.Dispose(disposing);
    }
}
