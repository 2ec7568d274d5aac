using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Views;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// A host self-supervised objective: it makes its own views of a batch, runs them through the shared backbone and its
/// own heads, and returns its loss. SP is added next to it by the training engine and needs nothing from it.
/// </summary>
/// <remarks>
/// Views are made by <see cref="Training.TrainingTerm.MakeViews"/> on the loader thread (CPU-side randomness only, from the
/// <see cref="Random"/> given), and consumed by <see cref="Training.TrainingTerm.Loss"/> on the training thread.
/// </remarks>
internal abstract class HostObjective : Training.TrainingTerm
{
    /// <summary>Creates the module.</summary>
    protected HostObjective(string name) : base(name) { }

    /// <inheritdoc />
    public override string TermName => "host";

    /// <summary>Momentum the teacher starts from (its schedule rises to 1 by a cosine); null for hosts without a teacher.</summary>
    public virtual double? DefaultTeacherMomentum => null;

    /// <summary>Called after every optimiser step: teacher-based hosts move their teacher towards the student.</summary>
    public virtual void UpdateTeacher(BackboneModule backbone, double momentum) { }
}
