using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML;

/// <summary>
/// The optimiser's settings beyond the learning rate: AdamW's weight decay, the warm-up, gradient clipping and
/// accumulation, and the teacher's momentum for the hosts that have one. <see cref="SpatialPretrainOptions.Optimizer"/>
/// holds them; <see cref="SpatialPretrainOptions.LearningRate"/> stays beside the epochs and the batch.
/// </summary>
/// <example>
/// <code>
/// var options = new SpatialPretrainOptions { Framework = SslFramework.Dino, Optimizer = { WeightDecay = 0.04, FinalWeightDecay = 0.4 } };
/// </code>
/// </example>
public sealed class OptimizerOptions
{
    private static readonly PretrainingSettings Defaults = new();

    /// <summary>AdamW weight decay. Default 1e-4.</summary>
    public double WeightDecay { get; set; } = Defaults.WeightDecay;

    /// <summary>Weight decay at the end of training, reached by a cosine from <see cref="WeightDecay"/> (DINO uses 0.04 → 0.4). Null (default) keeps it constant.</summary>
    public double? FinalWeightDecay { get; set; }

    /// <summary>Fraction of the steps spent in linear learning-rate warm-up. Default 0.1.</summary>
    public double WarmupFraction { get; set; } = Defaults.WarmupFraction;

    /// <summary>Clip the global gradient norm to this value; 0 disables clipping. Default 3.</summary>
    public double GradientClipNorm { get; set; } = Defaults.GradientClipNorm;

    /// <summary>
    /// When true, <see cref="GradientClipNorm"/> applies to the backbone, the host's heads and the SP head each on its
    /// own, so a large gradient in one head does not scale down the backbone's update. Default false (one global clip).
    /// The share of clipped steps is in <see cref="PretrainingHistory.ClippedStepShare"/>.
    /// </summary>
    public bool ClipGradientPerPart { get; set; }

    /// <summary>Micro-batches of <see cref="SpatialPretrainOptions.BatchSize"/> whose gradients are summed before each step (effective batch = product). Default 1.</summary>
    public int GradientAccumulationSteps { get; set; } = Defaults.GradientAccumulationSteps;

    /// <summary>Teacher momentum at the start for MoCo v3, BYOL and DINO (rises to 1 by a cosine). Null (default) takes the host's own default (0.99).</summary>
    public double? TeacherMomentum { get; set; }
}
