namespace SpatialPrediction.ML.Training;

/// <summary>One optimisation step's losses.</summary>
/// <param name="Step">0-based step index.</param>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="HostLoss">Host objective loss.</param>
/// <param name="SpatialLoss">SP loss (unweighted).</param>
/// <param name="TotalLoss">Host + λ·SP.</param>
/// <param name="LearningRate">Learning rate of the step.</param>
/// <param name="SpatialWeight">λ of the step (after its warm-up).</param>
/// <param name="HostGradientNorm">L2 norm of the host loss's gradient on the backbone's parameters (before clipping).</param>
/// <param name="SpatialGradientNorm">L2 norm of λ·SP's gradient on the backbone's parameters (before clipping).</param>
/// <param name="GradientNorm">L2 norm of the whole gradient over every trained parameter, before clipping.</param>
/// <param name="Clipped">Whether <see cref="GradientNorm"/> exceeded the clip and the step was scaled down.</param>
public sealed record StepRecord(int Step, int Epoch, float HostLoss, float SpatialLoss, float TotalLoss, double LearningRate,
    float SpatialWeight = float.NaN, float HostGradientNorm = float.NaN, float SpatialGradientNorm = float.NaN, float GradientNorm = float.NaN,
    bool Clipped = false);

/// <summary>What a pretraining run did: per-step losses, SP validation loss before and after, and speed. Read-only to users: the run writes it.</summary>
public sealed class PretrainingHistory
{
    private readonly List<StepRecord> steps = new();

    /// <summary>Every step, in order.</summary>
    public IReadOnlyList<StepRecord> Steps => steps;
    /// <summary>SP loss on held-out images before training (randomly initialised head and backbone); NaN without a validation split.</summary>
    public float SpatialValidationLossBefore { get; internal set; } = float.NaN;
    /// <summary>SP loss on the same held-out pairs after training; NaN without a validation split.</summary>
    public float SpatialValidationLossAfter { get; internal set; } = float.NaN;
    /// <summary>Images used for training.</summary>
    public int TrainingImages { get; internal set; }
    /// <summary>Images held out for SP validation.</summary>
    public int ValidationImages { get; internal set; }
    /// <summary>Wall-clock time of the optimisation loop.</summary>
    public TimeSpan Elapsed { get; internal set; }
    /// <summary>Rows left out because their image could not be read, each "row N: reason" (with <c>SkipUnreadableImages</c>).</summary>
    public IReadOnlyList<string> SkippedRows { get; internal set; } = Array.Empty<string>();
    /// <summary>Device the run used, e.g. "cpu" or "cuda:0".</summary>
    public string Device { get; internal set; } = "cpu";
    /// <summary>Whether libtorch ran its oneDNN kernels or the safe mode's own ones, and why (<see cref="Machine.OneDnnSafeMode"/>).</summary>
    public Machine.OneDnnMode OneDnnMode { get; internal set; } = new(false, "not recorded");

    internal void AddSteps(IEnumerable<StepRecord> records) => steps.AddRange(records);

    /// <summary>Share of steps whose gradient was clipped.</summary>
    public double ClippedStepShare => Steps.Count == 0 ? 0 : Steps.Count(s => s.Clipped) / (double)Steps.Count;

    /// <summary>Median over steps of ‖∇ λ·SP‖ / ‖∇ host‖ at the backbone; NaN unless both terms trained.</summary>
    public double MedianSpatialToHostGradientRatio
    {
        get
        {
            var ratios = Steps.Where(s => s.HostGradientNorm > 0 && float.IsFinite(s.SpatialGradientNorm))
                .Select(s => (double)s.SpatialGradientNorm / s.HostGradientNorm).Order().ToList();
            return ratios.Count == 0 ? double.NaN : ratios[ratios.Count / 2];
        }
    }

    /// <summary>Mean of <paramref name="selector"/> over the first <paramref name="count"/> steps.</summary>
    public float MeanOfFirst(int count, Func<StepRecord, float> selector) => Steps.Take(count).Select(selector).DefaultIfEmpty(float.NaN).Average();

    /// <summary>Mean of <paramref name="selector"/> over the last <paramref name="count"/> steps.</summary>
    public float MeanOfLast(int count, Func<StepRecord, float> selector) => Steps.TakeLast(count).Select(selector).DefaultIfEmpty(float.NaN).Average();
}
