using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML.Performance;

/// <summary>Reports on the training thread (the BCL's <see cref="Progress{T}"/> posts to a context, too late to time or stop a step).</summary>
internal sealed class ProgressCallback(Action<PretrainingProgress> report) : IProgress<PretrainingProgress>
{
    public void Report(PretrainingProgress value) => report(value);
}
