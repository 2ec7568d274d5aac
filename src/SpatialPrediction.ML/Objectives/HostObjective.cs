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

    /// <summary>What identifies a host the framework alone does not name (a user's objective), for the resume fingerprint; null for the built-in hosts.</summary>
    public virtual string? Identity => null;

    /// <summary>Momentum the teacher starts from (its schedule rises to 1 by a cosine); null for hosts without a teacher.</summary>
    public virtual double? DefaultTeacherMomentum => null;

    /// <summary>Called after every optimiser step: teacher-based hosts move their teacher towards the student.</summary>
    public virtual void UpdateTeacher(BackboneModule backbone, double momentum) { }

    /// <summary>
    /// The crops of the host's first two views, for SP trained on them; null for a host that does not share them
    /// (<see cref="ShareFirstPair"/> is how a host shares them).
    /// </summary>
    public virtual CropFamily? FirstPairCrops => null;

    /// <summary>Set by an SP plug-in that trains on the host's views: the host then keeps <see cref="FirstPair"/> after each loss.</summary>
    public bool SharesFirstPair { get; set; }

    /// <summary>The pooled backbone features of the first two views of the last <see cref="Training.TrainingTerm.Loss"/>, with where they were cut.</summary>
    public SharedViewPair? FirstPair { get; private set; }

    /// <inheritdoc />
    public override bool GraphReadByLaterTerms => SharesFirstPair;

    /// <summary>
    /// Called by a host's loss with the backbone's pooled features of its first two views, concatenated (view 0's rows,
    /// then view 1's), so an SP plug-in can train on them without a forward pass of its own.
    /// </summary>
    protected void ShareFirstPair(Tensor features, ViewSet views)
    {
        if (!SharesFirstPair) return;
        if (views.Geometry is not { Count: >= 2 } geometry)
            throw new InvalidOperationException($"{GetType().Name} shares its first two views but its view set does not record where they were cut.");
        FirstPair = new SharedViewPair(features, geometry[0], geometry[1]);
    }

    /// <summary>Forgets the shared pair once the step's terms have read it.</summary>
    public void ClearFirstPair() => FirstPair = null;
}

/// <summary>The pooled features [2B, D] of a host's first two views (view 0's rows first) and where each was cut.</summary>
internal sealed record SharedViewPair(Tensor Features, ViewGeometry First, ViewGeometry Second);
