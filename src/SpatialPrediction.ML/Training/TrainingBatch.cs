using SpatialPrediction.ML.Views;

namespace SpatialPrediction.ML.Training;

/// <summary>One micro-batch, ready to train on: the host's views and SP's views. Disposing it releases their tensors.</summary>
/// <param name="MicroBatch">Global micro-batch index (epochs × micro-batches per epoch).</param>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="HostViews">The host objective's views, or null without a host.</param>
/// <param name="SpatialViews">SP's view pairs and targets, or null with SP off.</param>
internal sealed record TrainingBatch(long MicroBatch, int Epoch, ViewSet? HostViews, ViewSet? SpatialViews) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        HostViews?.Dispose();
        SpatialViews?.Dispose();
    }
}
