namespace SpatialPrediction.ML.Training;

/// <summary>Reported after every optimisation step.</summary>
/// <param name="Step">Steps done so far (1-based).</param>
/// <param name="TotalSteps">Steps in the whole run.</param>
/// <param name="Epoch">Current epoch (1-based).</param>
/// <param name="HostLoss">Host objective loss of this step (0 when there is no host).</param>
/// <param name="SpatialLoss">SP loss of this step (0 when SP is off).</param>
/// <param name="TotalLoss">Host + λ·SP.</param>
/// <param name="LearningRate">Learning rate used in this step.</param>
/// <param name="ImagesPerSecond">Training throughput since the start of the run.</param>
/// <param name="Remaining">Estimated time to the end of the run.</param>
public sealed record PretrainingProgress(
    int Step, int TotalSteps, int Epoch, float HostLoss, float SpatialLoss, float TotalLoss, double LearningRate,
    double ImagesPerSecond, TimeSpan Remaining);
