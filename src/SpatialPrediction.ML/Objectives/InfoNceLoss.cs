using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// MoCo v3's InfoNCE: queries [N, D] against keys [N, D] (cosine similarity / τ), the matching key is the positive and
/// the other keys of the batch are negatives; scaled by 2τ as in the paper so the gradient scale does not depend on τ.
/// </summary>
/// <param name="Temperature">τ; MoCo v3 uses 0.2 for ViTs (1.0 for ResNets); 0.2 is used for all backbones here.</param>
internal sealed record InfoNceLoss(double Temperature = 0.2)
{
    /// <summary>Loss of <paramref name="queries"/> against <paramref name="keys"/>.</summary>
    public Tensor Compute(Tensor queries, Tensor keys)
    {
        var q = nn.functional.normalize(queries, dim: 1);
        var k = nn.functional.normalize(keys, dim: 1);
        var logits = q.matmul(k.t()) / Temperature;
        var labels = arange(q.shape[0], device: q.device);
        return nn.functional.cross_entropy(logits, labels) * (2 * Temperature);
    }
}
