using SpatialPrediction.ML.Training;
using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// BYOL (Grill et al., 2020): the online network's prediction of one view must match the target network's projection
/// of the other (2 − 2·cosine), symmetrised; no negatives. Scaled for small images: projector and predictor
/// 512 hidden → 128 out (paper: 4096 → 256); target momentum 0.99 → 1 (the paper's 0.996 is for ~100k-step runs,
/// where the teacher has time to follow); views as SimCLR.
/// </summary>
internal sealed class ByolObjective : MomentumObjective
{
    /// <summary>BYOL in the engine (λ not tuned separately: SimCLR's).</summary>
    internal static HostRegistration Registration { get; } = new(SslFramework.Byol,
        (settings, backbone, createBackbone) => new ByolObjective(backbone, createBackbone, settings.ImageSize));

    /// <summary>Creates the objective; the target network starts as a copy of <paramref name="backbone"/>.</summary>
    public ByolObjective(BackboneModule backbone, Func<BackboneModule> createBackbone, int viewSize,
        int hiddenDimension = 512, int outputDimension = 128)
        : base(nameof(ByolObjective), backbone, createBackbone,
            () => new MlpHead(new long[] { backbone.FeatureDimension, hiddenDimension, outputDimension }),
            new MlpHead(new long[] { outputDimension, hiddenDimension, outputDimension }), viewSize)
    {
    }

    /// <inheritdoc />
    protected override Tensor CrossViewLoss(Tensor[] predictions, Tensor[] targets)
        => (CosineRegression(predictions[0], targets[1]) + CosineRegression(predictions[1], targets[0])) / 2;

    /// <summary>2 − 2·cos(p, z), averaged over the batch.</summary>
    public static Tensor CosineRegression(Tensor predictions, Tensor targets)
        => (2 - 2 * (nn.functional.normalize(predictions, dim: 1) * nn.functional.normalize(targets, dim: 1)).sum(1)).mean();
}
