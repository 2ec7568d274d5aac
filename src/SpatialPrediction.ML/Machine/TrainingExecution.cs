using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Machine;

/// <summary>
/// How one training run executes on this machine, answered in one place: the oneDNN mode (decided before libtorch's
/// first kernel), the native heap policy, whether the asked precision is slow here, and the convolution plan. Each
/// decision that departs from the plain default is written to the run's log when it is made; the one process-wide
/// effect (the heap policy) lasts until <see cref="Dispose"/>.
/// </summary>
internal sealed class TrainingExecution : IDisposable
{
    private readonly IDisposable? heap;
    private readonly Action<string>? log;

    private TrainingExecution(OneDnnMode oneDnn, IDisposable? heap, Action<string>? log)
    {
        OneDnn = oneDnn;
        this.heap = heap;
        this.log = log;
    }

    /// <summary>The oneDNN mode every kernel of the run uses.</summary>
    public OneDnnMode OneDnn { get; }

    /// <summary>The convolution layout the run trains with, once <see cref="ChooseConvolutionPlan"/> has run.</summary>
    public LayoutCalibration.Choice? Layout { get; private set; }

    /// <summary>
    /// Starts a run's execution on <paramref name="device"/>: applies the oneDNN mode, holds the native heap when
    /// <paramref name="reuseNativeMemory"/> asks for it, and warns when <paramref name="precision"/> is the slower one here.
    /// </summary>
    public static TrainingExecution Begin(Device device, ComputePrecision precision, bool reuseNativeMemory, Action<string>? log)
    {
        var oneDnn = OneDnnSafeMode.EnsureApplied();
        if (oneDnn.SafeMode) log?.Invoke(oneDnn.ToString());
        var heap = reuseNativeMemory ? NativeHeapReuse.Hold() : null;
        if (heap is not null && NativeHeapReuse.Available)
            log?.Invoke("Native heap: glibc keeps freed memory for reuse during this run (mallopt, process-wide; afterwards its " +
                        "thresholds stay at the values glibc settles on and the free memory is returned). ReuseNativeMemory = false leaves the allocator alone.");
        if (precision == ComputePrecision.BFloat16 && BFloat16Kernels.SlowerOn(device) is { } slower)
            log?.Invoke($"Warning: bfloat16 training (TrainingPrecision = BFloat16) was asked for, but {slower}; Float32 is the faster choice here.");
        return new TrainingExecution(oneDnn, heap, log);
    }

    /// <summary>
    /// The convolution plan for a step of <paramref name="passes"/>: <paramref name="requested"/> as it is, or for
    /// <see cref="ConvolutionLayout.Auto"/> the faster plan of whole throwaway steps (<paramref name="step"/>, made only
    /// when a measurement is needed) or the one this machine measured before.
    /// </summary>
    public ConvolutionPlan ChooseConvolutionPlan(ConvolutionLayout requested, BackboneSpec spec, IReadOnlyList<BackbonePass> passes, Device device,
        bool bfloat16, Func<(Action<ConvolutionPlan> Run, IDisposable Owner)> step)
    {
        var layout = LayoutCalibration.ResolveTraining(requested, spec, passes, device, bfloat16, step);
        if (layout.Candidates.Count > 0)
            log?.Invoke($"Convolution layout: {layout}{(layout.Cached ? "" : $"; the choice is kept in {CalibrationCache.DefaultFolder} (delete it to measure again)")}.");
        Layout = layout;
        return layout.Plan;
    }

    public void Dispose() => heap?.Dispose();
}
