using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// SimCLR (Chen et al., 2020) scaled for small images: two random-resized crops per image (area 0.2–1, as SimCLR's
/// CIFAR setting), horizontal flip, colour jitter 0.4 with p = 0.8, grayscale p = 0.2, no blur (SimCLR drops it for
/// CIFAR), projection head 2048→128 shrunk to (2·D)→128, NT-Xent with temperature 0.5.
/// </summary>
public sealed class SimClrObjective : HostObjective
{
    private readonly ProjectionHead projection;

    /// <summary>Creates the objective for a backbone of <paramref name="featureDimension"/> features.</summary>
    public SimClrObjective(long featureDimension, int viewSize, double temperature = 0.5, int projectionDimension = 128)
        : base(nameof(SimClrObjective))
    {
        ViewSize = viewSize;
        ContrastiveLoss = new NtXentLoss(temperature);
        projection = new ProjectionHead(featureDimension, 2 * featureDimension, projectionDimension);
        RegisterComponents();
    }

    /// <summary>Side of each view in pixels.</summary>
    public int ViewSize { get; }
    /// <summary>Crop boxes of the two views.</summary>
    public RandomResizedCropSampler Crops { get; init; } = new(0.2f, 1f);
    /// <summary>Photometric augmentation of each view.</summary>
    public PhotometricAugmentation Augmentation { get; init; } = new();
    /// <summary>The contrastive loss.</summary>
    public NtXentLoss ContrastiveLoss { get; }

    /// <inheritdoc />
    public override SslFramework Framework => SslFramework.SimClr;

    /// <inheritdoc />
    public override Tensor Loss(BackboneModule backbone, Tensor images, Random random)
    {
        var first = MakeView(images, random);
        var second = MakeView(images, random);
        var z = projection.forward(backbone.forward(cat(new[] { first, second }, 0)));
        var halves = z.chunk(2, 0);
        return ContrastiveLoss.Compute(halves[0], halves[1]);
    }

    private Tensor MakeView(Tensor images, Random random)
    {
        int batch = (int)images.shape[0];
        var boxes = new ViewBox[batch];
        var flips = new bool[batch];
        for (int i = 0; i < batch; i++)
        {
            boxes[i] = Crops.Sample(random);
            flips[i] = random.NextSingle() < 0.5f;
        }
        return Augmentation.Apply(ViewCropper.Crop(images, boxes, flips, ViewSize), random);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) projection.Dispose();
        base.Dispose(disposing);
    }
}
