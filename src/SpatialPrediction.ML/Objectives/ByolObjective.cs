using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// BYOL (Grill et al., 2020): the online network's prediction of one view must match the target network's projection
/// of the other (2 − 2·cosine), symmetrised; no negatives. Scaled for small images: projector and predictor
/// 512 hidden → 128 out (paper: 4096 → 256); target momentum 0.99 → 1 (the paper's 0.996 is for ~100k-step runs,
/// where the teacher has time to follow); views as SimCLR.
/// </summary>
public sealed class ByolObjective : HostObjective
{
    private readonly MlpHead projector, predictor, targetProjector;
    private readonly BackboneModule targetBackbone;

    /// <summary>Creates the objective; the target network starts as a copy of <paramref name="backbone"/>.</summary>
    public ByolObjective(BackboneModule backbone, Func<BackboneModule> createBackbone, int viewSize,
        int hiddenDimension = 512, int outputDimension = 128) : base(nameof(ByolObjective))
    {
        long d = backbone.FeatureDimension;
        MlpHead Projector() => new(new[] { d, hiddenDimension, outputDimension });
        projector = Projector();
        predictor = new MlpHead(new long[] { outputDimension, hiddenDimension, outputDimension });
        targetBackbone = MomentumTeacher.Copy(backbone, createBackbone);
        targetProjector = MomentumTeacher.Copy(projector, Projector);
        Views = HostViews.TwoViews(viewSize);
        RegisterComponents();
    }

    /// <summary>How the two views are made.</summary>
    public MultiCropSampler Views { get; }

    /// <inheritdoc />
    public override SslFramework Framework => SslFramework.Byol;
    /// <inheritdoc />
    public override double? DefaultTeacherMomentum => 0.99;

    /// <inheritdoc />
    public override ViewSet MakeViews(Tensor images, Random random) => new(Views.Make(images, random));

    /// <inheritdoc />
    public override Tensor Loss(BackboneModule backbone, ViewSet views)
    {
        var both = cat(new[] { views.Views[0], views.Views[1] }, 0);
        var predictions = predictor.forward(projector.forward(backbone.forward(both))).chunk(2, 0);
        Tensor[] targets;
        using (no_grad()) targets = targetProjector.forward(targetBackbone.forward(both)).chunk(2, 0);
        return (CosineRegression(predictions[0], targets[1]) + CosineRegression(predictions[1], targets[0])) / 2;
    }

    /// <summary>2 − 2·cos(p, z), averaged over the batch.</summary>
    public static Tensor CosineRegression(Tensor predictions, Tensor targets)
        => (2 - 2 * (nn.functional.normalize(predictions, dim: 1) * nn.functional.normalize(targets, dim: 1)).sum(1)).mean();

    /// <inheritdoc />
    public override void UpdateTeacher(BackboneModule backbone, double momentum)
    {
        MomentumTeacher.Update(targetBackbone, backbone, momentum);
        MomentumTeacher.Update(targetProjector, projector, momentum);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            projector.Dispose(); predictor.Dispose(); targetProjector.Dispose(); targetBackbone.Dispose();
        }
        base.Dispose(disposing);
    }
}
