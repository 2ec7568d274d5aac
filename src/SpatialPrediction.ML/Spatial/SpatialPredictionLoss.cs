using static TorchSharp.torch;

namespace SpatialPrediction.ML.Spatial;

/// <summary>
/// Smooth L1 (Huber with threshold <see cref="Beta"/>) between predicted and standardised targets, averaged over the
/// batch and the four targets: robust to the occasional extreme pair that log-ratios produce.
/// </summary>
/// <param name="Beta">Where the loss turns from quadratic to linear, in standard deviations.</param>
internal sealed record SpatialPredictionLoss(double Beta = 1.0)
{
    /// <summary>Loss of predictions [B, 4] against standardised targets [B, 4].</summary>
    public Tensor Compute(Tensor predicted, Tensor standardizedTargets)
        => nn.functional.smooth_l1_loss(predicted, standardizedTargets, reduction: nn.Reduction.Mean, beta: Beta);
}
