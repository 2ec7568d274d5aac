namespace SpatialPrediction.ML.Training;

/// <summary>One optimisation step's losses.</summary>
/// <param name="Step">0-based step index.</param>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="HostLoss">Host objective loss.</param>
/// <param name="SpatialLoss">SP loss (unweighted).</param>
/// <param name="TotalLoss">Host + λ·SP.</param>
/// <param name="LearningRate">Learning rate of the step.</param>
public sealed record StepRecord(int Step, int Epoch, float HostLoss, float SpatialLoss, float TotalLoss, double LearningRate);

/// <summary>What a pretraining run did: per-step losses, SP validation loss before and after, and speed.</summary>
public sealed class PretrainingHistory
{
    /// <summary>Every step, in order.</summary>
    public List<StepRecord> Steps { get; } = new();
    /// <summary>SP loss on held-out images before training (randomly initialised head and backbone); NaN without a validation split.</summary>
    public float SpatialValidationLossBefore { get; set; } = float.NaN;
    /// <summary>SP loss on the same held-out pairs after training; NaN without a validation split.</summary>
    public float SpatialValidationLossAfter { get; set; } = float.NaN;
    /// <summary>Images used for training.</summary>
    public int TrainingImages { get; set; }
    /// <summary>Images held out for SP validation.</summary>
    public int ValidationImages { get; set; }
    /// <summary>Wall-clock time of the optimisation loop.</summary>
    public TimeSpan Elapsed { get; set; }
    /// <summary>Rows left out because their image could not be read, each "row N: reason" (with <c>SkipUnreadableImages</c>).</summary>
    public IReadOnlyList<string> SkippedRows { get; set; } = Array.Empty<string>();
    /// <summary>Device the run used, e.g. "cpu" or "cuda:0".</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>Mean of <paramref name="selector"/> over the first <paramref name="count"/> steps.</summary>
    public float MeanOfFirst(int count, Func<StepRecord, float> selector) => Steps.Take(count).Select(selector).DefaultIfEmpty(float.NaN).Average();

    /// <summary>Mean of <paramref name="selector"/> over the last <paramref name="count"/> steps.</summary>
    public float MeanOfLast(int count, Func<StepRecord, float> selector) => Steps.TakeLast(count).Select(selector).DefaultIfEmpty(float.NaN).Average();
}
