using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// The shared shape of MoCo v3 and BYOL: two views; the student runs backbone → projector → predictor on both; an EMA
/// teacher (a copy of backbone and projector) runs on both without gradients; a subclass only states how predictions
/// of one view are compared with the teacher's output of the other.
/// </summary>
internal abstract class MomentumObjective : HostObjective
{
    private readonly MlpHead projector, predictor, teacherProjector;
    private readonly BackboneModule teacherBackbone;

    /// <summary>Builds the student heads and the teacher copies.</summary>
    protected MomentumObjective(string name, BackboneModule backbone, Func<BackboneModule> createBackbone, Func<MlpHead> createProjector,
        MlpHead predictor, int viewSize) : base(name)
    {
        projector = createProjector();
        this.predictor = predictor;
        teacherBackbone = MomentumTeacher.Copy(backbone, createBackbone);
        teacherProjector = MomentumTeacher.Copy(projector, createProjector);
        Views = HostViews.TwoViews(viewSize);
        // Registered by name here: the fields belong to this base class, which reflection on a subclass does not list.
        register_module("projector", projector);
        register_module("predictor", predictor);
        register_module("teacher_backbone", teacherBackbone);
        register_module("teacher_projector", teacherProjector);
    }

    /// <summary>How the two views are made.</summary>
    public MultiCropSampler Views { get; }

    /// <inheritdoc />
    public override double? DefaultTeacherMomentum => 0.99;

    /// <inheritdoc />
    public override ViewSet MakeViews(PictureBatch pictures, Random random, Device device) => Views.Make(pictures, random, device);

    /// <inheritdoc />
    public override CropFamily FirstPairCrops => Views.Families[0];

    /// <inheritdoc />
    public override IEnumerable<BackbonePass> BackbonePasses(int batch)
        => Views.Passes(batch).SelectMany(p => new[] { p, p with { Backward = false } }); // the teacher sees the same views

    /// <inheritdoc />
    public override Tensor Loss(BackboneModule backbone, ViewSet views)
    {
        var both = cat(new[] { views.Views[0], views.Views[1] }, 0);
        var features = backbone.forward(both);
        ShareFirstPair(features, views);
        var predictions = predictor.forward(projector.forward(features)).chunk(2, 0);
        Tensor[] targets;
        using (no_grad()) targets = teacherProjector.forward(teacherBackbone.forward(both)).chunk(2, 0);
        return CrossViewLoss(predictions, targets);
    }

    /// <summary>The loss of the student's predictions (view 0, view 1) against the teacher's outputs (view 0, view 1).</summary>
    protected abstract Tensor CrossViewLoss(Tensor[] predictions, Tensor[] targets);

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
