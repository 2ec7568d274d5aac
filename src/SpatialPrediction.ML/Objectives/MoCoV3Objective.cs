using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// MoCo v3 (Chen, Xie, He, 2021): the student's projector + predictor output (query) must match the momentum encoder's
/// projector output (key) of the other view, with the rest of the batch as negatives; symmetrised. Scaled for small
/// images: projector D → 512 → 512 → 128 and predictor 128 → 512 → 128 (paper: 4096/256), both ending in a
/// non-affine BatchNorm; τ = 0.2; momentum 0.99 → 1 by a cosine (the paper's base value); views as SimCLR.
/// </summary>
public sealed class MoCoV3Objective : HostObjective
{
    private readonly MlpHead projector, predictor, teacherProjector;
    private readonly BackboneModule teacherBackbone;

    /// <summary>Creates the objective; the momentum encoder starts as a copy of <paramref name="backbone"/>.</summary>
    public MoCoV3Objective(BackboneModule backbone, Func<BackboneModule> createBackbone, int viewSize,
        int hiddenDimension = 512, int outputDimension = 128) : base(nameof(MoCoV3Objective))
    {
        long d = backbone.FeatureDimension;
        MlpHead Projector() => new(new[] { d, hiddenDimension, hiddenDimension, outputDimension }, finalBatchNorm: true);
        projector = Projector();
        predictor = new MlpHead(new long[] { outputDimension, hiddenDimension, outputDimension }, finalBatchNorm: true);
        teacherBackbone = MomentumTeacher.Copy(backbone, createBackbone);
        teacherProjector = MomentumTeacher.Copy(projector, Projector);
        Views = HostViews.TwoViews(viewSize);
        RegisterComponents();
    }

    /// <summary>How the two views are made.</summary>
    public MultiCropSampler Views { get; }
    /// <summary>The contrastive loss.</summary>
    public InfoNceLoss ContrastiveLoss { get; } = new();

    /// <inheritdoc />
    public override SslFramework Framework => SslFramework.MoCoV3;
    /// <inheritdoc />
    public override double? DefaultTeacherMomentum => 0.99;

    /// <inheritdoc />
    public override ViewSet MakeViews(Tensor images, Random random) => new(Views.Make(images, random));

    /// <inheritdoc />
    public override Tensor Loss(BackboneModule backbone, ViewSet views)
    {
        var both = cat(new[] { views.Views[0], views.Views[1] }, 0);
        var queries = predictor.forward(projector.forward(backbone.forward(both))).chunk(2, 0);
        Tensor[] keys;
        using (no_grad()) keys = teacherProjector.forward(teacherBackbone.forward(both)).chunk(2, 0);
        return ContrastiveLoss.Compute(queries[0], keys[1]) + ContrastiveLoss.Compute(queries[1], keys[0]);
    }

    /// <inheritdoc />
    public override void UpdateTeacher(BackboneModule backbone, double momentum)
    {
        MomentumTeacher.Update(teacherBackbone, backbone, momentum);
        MomentumTeacher.Update(teacherProjector, projector, momentum);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            projector.Dispose(); predictor.Dispose(); teacherProjector.Dispose(); teacherBackbone.Dispose();
        }
        base.Dispose(disposing);
    }
}
