using SpatialPrediction.ML.Training;
using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// MoCo v3 (Chen, Xie, He, 2021): the student's projector + predictor output (query) must match the momentum encoder's
/// projector output (key) of the other view, with the rest of the batch as negatives; symmetrised. Scaled for small
/// images: projector D → 512 → 512 → 128 and predictor 128 → 512 → 128 (paper: 4096/256), both ending in a
/// non-affine BatchNorm; τ = 0.2; momentum 0.99 → 1 by a cosine (the paper's base value); views as SimCLR.
/// </summary>
internal sealed class MoCoV3Objective : MomentumObjective
{
    /// <summary>MoCo v3 in the engine (λ not tuned separately: SimCLR's).</summary>
    internal static HostRegistration Registration { get; } = new(SslFramework.MoCoV3,
        (settings, backbone, createBackbone) => new MoCoV3Objective(backbone, createBackbone, settings.ImageSize));

    /// <summary>Creates the objective; the momentum encoder starts as a copy of <paramref name="backbone"/>.</summary>
    public MoCoV3Objective(BackboneModule backbone, Func<BackboneModule> createBackbone, int viewSize,
        int hiddenDimension = 512, int outputDimension = 128)
        : base(nameof(MoCoV3Objective), backbone, createBackbone,
            () => new MlpHead(new long[] { backbone.FeatureDimension, hiddenDimension, hiddenDimension, outputDimension }, finalBatchNorm: true),
            new MlpHead(new long[] { outputDimension, hiddenDimension, outputDimension }, finalBatchNorm: true), viewSize)
    {
    }

    /// <summary>The contrastive loss.</summary>
    public InfoNceLoss ContrastiveLoss { get; } = new();

    /// <inheritdoc />
    protected override Tensor CrossViewLoss(Tensor[] queries, Tensor[] keys)
        => ContrastiveLoss.Compute(queries[0], keys[1]) + ContrastiveLoss.Compute(queries[1], keys[0]);
}
