using SpatialPrediction.ML.Views;

namespace SpatialPrediction.ML.Training;

/// <summary>One micro-batch, ready to train on: each training term's views, in the terms' order. Disposing it releases them.</summary>
/// <param name="MicroBatch">Global micro-batch index (epochs × micro-batches per epoch).</param>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="Views">The views of each term (see <see cref="TrainingTerm"/>), in the order of the run's terms.</param>
internal sealed record TrainingBatch(long MicroBatch, int Epoch, IReadOnlyList<ViewSet> Views) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var views in Views) views.Dispose();
    }
}
