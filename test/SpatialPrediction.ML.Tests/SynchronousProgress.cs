namespace SpatialPrediction.ML.Tests;

/// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (the BCL's Progress posts to a context).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
