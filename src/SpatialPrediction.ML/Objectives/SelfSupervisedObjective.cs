using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// A host self-supervised objective of your own (VICReg, Barlow Twins, ...), trained on the library's backbone with or
/// without SP: derive from this class, write <see cref="Loss"/>, and set
/// <c>SpatialPretrainOptions.Framework = SslFramework.Custom</c> and <c>SpatialPretrainOptions.CustomObjective</c> to a
/// function that builds it.
/// </summary>
/// <remarks>
/// <para>
/// The library makes the views: <see cref="ViewCount"/> crops of each picture (random-resized, 20–100 % of its area,
/// at <c>ImageSize</c>), each flipped at random and colour-jittered as SimCLR does. It runs them through the shared
/// backbone in one call and passes the pooled features to <see cref="Loss"/>; the optimiser, schedules, clipping,
/// checkpoints, SP and featurisation are the library's. With <c>SpatialPrediction.OnHostViews</c>, SP trains on
/// the first two of these views.
/// </para>
/// <para>
/// Heads (projectors, expanders) are ordinary TorchSharp modules held in fields and registered with
/// <c>RegisterComponents()</c> at the end of the constructor, so the optimiser trains them and checkpoints keep them.
/// <see cref="Loss"/> runs inside the step's dispose scope: temporaries need no <c>using</c>.
/// </para>
/// </remarks>
public abstract class SelfSupervisedObjective : nn.Module
{
    /// <summary>Creates the objective; <paramref name="name"/> names it in logs, errors and the resume fingerprint.</summary>
    protected SelfSupervisedObjective(string name) : base(name) { }

    /// <summary>Views of each picture that <see cref="Loss"/> receives; at least 2. Default 2.</summary>
    public virtual int ViewCount => 2;

    /// <summary>
    /// The objective's loss, a scalar to minimise. <paramref name="views"/>[v] holds the backbone's pooled features of
    /// view v of every picture in the batch, [B, D] (D: the feature dimension the build function was given); row i
    /// of each comes from the same picture.
    /// </summary>
    public abstract Tensor Loss(IReadOnlyList<Tensor> views);
}
