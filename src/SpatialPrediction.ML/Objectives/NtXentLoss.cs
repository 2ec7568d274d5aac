using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// NT-Xent (normalised temperature-scaled cross entropy, SimCLR): for 2N embeddings where i and i+N are two views of
/// one image, each embedding must pick its partner among the other 2N-1 by cosine similarity / temperature.
/// </summary>
/// <param name="Temperature">Softmax temperature; SimCLR uses 0.5 for small batches and CIFAR-size images.</param>
internal sealed record NtXentLoss(double Temperature = 0.5)
{
    /// <summary>Loss for <paramref name="first"/>[i] paired with <paramref name="second"/>[i], both [N, D].</summary>
    public Tensor Compute(Tensor first, Tensor second)
    {
        long n = first.shape[0];
        var z = nn.functional.normalize(cat(new[] { first, second }, 0), dim: 1);
        var logits = z.matmul(z.t()) / Temperature;
        // An embedding is trivially most similar to itself: remove the diagonal from the candidates.
        var self = eye(2 * n, dtype: ScalarType.Bool, device: z.device);
        logits = logits.masked_fill(self, Backbones.ProcessScalars.Excluded);
        var partner = cat(new[] { arange(n, 2 * n, device: z.device), arange(0, n, device: z.device) }, 0);
        return nn.functional.cross_entropy(logits, partner);
    }
}
