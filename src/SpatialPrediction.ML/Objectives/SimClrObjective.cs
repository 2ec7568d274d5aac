using SpatialPrediction.ML.Training;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// SimCLR (Chen et al., 2020) scaled for small images: <see cref="HostViews.TwoViews"/>, a projection head
/// D → 2D → 128 (the paper's 2048 → 2048 → 128 for ResNet-50, kept in proportion), NT-Xent with temperature 0.5
/// (the paper's CIFAR value for small batches).
/// </summary>
internal sealed class SimClrObjective : HostObjective
{
    /// <summary>SimCLR in the engine, with SP's default λ for it (0.5, chosen on the emoji validation split).</summary>
    internal static HostRegistration Registration { get; } = new(SslFramework.SimClr,
        (settings, backbone, _) => new SimClrObjective(backbone.FeatureDimension, settings.ImageSize));

    private readonly MlpHead projection;

    /// <summary>Creates the objective for a backbone of <paramref name="featureDimension"/> features.</summary>
    public SimClrObjective(long featureDimension, int viewSize, double temperature = 0.5, int projectionDimension = 128)
        : base(nameof(SimClrObjective))
    {
        Views = HostViews.TwoViews(viewSize);
        ContrastiveLoss = new NtXentLoss(temperature);
        projection = new MlpHead(new[] { featureDimension, 2 * featureDimension, projectionDimension });
        RegisterComponents();
    }

    /// <summary>How the two views are made.</summary>
    public MultiCropSampler Views { get; }
    /// <summary>The contrastive loss.</summary>
    public NtXentLoss ContrastiveLoss { get; }

    /// <inheritdoc />
    public override ViewSet MakeViews(PictureBatch pictures, Random random, Device device) => Views.Make(pictures, random, device);

    /// <inheritdoc />
    public override CropFamily FirstPairCrops => Views.Families[0];

    /// <inheritdoc />
    public override IEnumerable<BackbonePass> BackbonePasses(int batch) => Views.Passes(batch);

    /// <inheritdoc />
    public override Tensor Loss(BackboneModule backbone, ViewSet views)
    {
        var features = backbone.forward(cat(new[] { views.Views[0], views.Views[1] }, 0));
        ShareFirstPair(features, views);
        var z = projection.forward(features);
        var halves = z.chunk(2, 0);
        return ContrastiveLoss.Compute(halves[0], halves[1]);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) projection.Dispose();
        base.Dispose(disposing);
    }
}
