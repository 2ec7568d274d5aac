using SpatialPrediction.ML.Backbones;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// Re-estimates every batch norm's running statistics on clean images at the featuriser's resolution (no augmentation,
/// no gradient), as the exact average over all batches rather than an exponential one. Training-mode forwards of
/// augmented host views and of SP's small local views leave statistics that the frozen featuriser then applies to
/// whole, unaugmented images at another size; this gives it the statistics of what it will actually see.
/// </summary>
internal static class BatchNormRecalibration
{
    /// <summary>Runs <paramref name="images"/>[<paramref name="indices"/>] through <paramref name="backbone"/> at <paramref name="size"/> px.</summary>
    public static void Run(BackboneModule backbone, TrainingImages images, long[] indices, int size, int batchSize, Device device)
    {
        var norms = backbone.named_modules().Select(m => m.module).OfType<BatchNorm2d>().ToList();
        if (norms.Count == 0 || indices.Length == 0) return;
        bool wasTraining = backbone.training;
        var momenta = norms.Select(n => n.momentum).ToList();
        try
        {
            foreach (var norm in norms) norm.reset_running_stats();
            backbone.train();
            using var noGrad = no_grad();
            int batches = 0;
            for (int start = 0; start < indices.Length; start += batchSize)
            {
                int length = Math.Min(batchSize, indices.Length - start);
                if (length < 2 && batches > 0) break; // a lone image gives no batch statistics at a 1×1 feature map
                using var scope = NewDisposeScope();
                // Momentum 1/(k+1) at batch k makes the running value the plain mean over batches.
                foreach (var norm in norms) norm.momentum = 1.0 / (batches + 1);
                using var pictures = images.Gather(indices.AsSpan(start, length));
                backbone.forward(pictures.Whole(size, device));
                batches++;
            }
        }
        finally
        {
            for (int i = 0; i < norms.Count; i++) norms[i].momentum = momenta[i];
            backbone.train(wasTraining);
        }
    }
}
