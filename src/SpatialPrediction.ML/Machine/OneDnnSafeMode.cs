namespace SpatialPrediction.ML.Machine;

/// <summary>How libtorch's oneDNN kernels run in this process, and why (<see cref="Current"/>).</summary>
/// <param name="SafeMode">Whether the safe mode is on: oneDNN kept to kernels that do not read the cache sizes.</param>
/// <param name="Reason">Why: what was found on this processor, or the setting that forced the choice.</param>
/// <remarks>
/// The safe mode keeps training and featurising right on processors whose CPUID hides the cache sizes: the oneDNN
/// inside libtorch 2.10 then divides by zero (SIGFPE) or computes wrong, run-to-run different results. Where that
/// condition is found, oneDNN is capped to its AVX kernels (<c>ONEDNN_MAX_CPU_ISA=AVX</c>), which do not size their
/// blocks from the caches; healthy processors keep every kernel and their speed. It is decided once per process, when
/// this library is first used and before its first libtorch call; the run's log and
/// <see cref="Training.PretrainingHistory.OneDnnMode"/> say what was decided and why.
/// The environment variable <c>SPATIAL_PREDICTION_ONEDNN_SAFE_MODE</c> (<see cref="EnvironmentVariable"/>) forces it:
/// <c>on</c> (always), <c>off</c> (never, e.g. where the detection is wrong) or <c>auto</c> (the default). The cap is set
/// in the process's native environment, where oneDNN reads it once, at its first kernel: TorchSharp code that ran
/// convolutions before this library was first touched has fixed oneDNN's choice already, so on such processors set
/// <c>ONEDNN_MAX_CPU_ISA=AVX</c> before the process starts. A cap of SSE41 or AVX already set by the process is kept.
/// </remarks>
public sealed record OneDnnMode(bool SafeMode, string Reason)
{
    /// <summary>The environment variable that forces the choice: on, off or auto.</summary>
    public const string EnvironmentVariable = "SPATIAL_PREDICTION_ONEDNN_SAFE_MODE";

    /// <summary>What was decided for this process (deciding it now if nothing was yet).</summary>
    /// <exception cref="InvalidOperationException">The environment variable has a value other than on, off or auto.</exception>
    public static OneDnnMode Current => OneDnnSafeMode.EnsureApplied();

    /// <summary>One line for a run's log.</summary>
    public override string ToString() => SafeMode ? $"oneDNN safe mode on: {Reason}" : $"oneDNN as usual: {Reason}";
}

/// <summary>
/// Decides the <see cref="OneDnnMode"/> once per process from <see cref="OneDnnCacheView"/> and the forcing variable,
/// and applies the cap.
/// </summary>
internal static class OneDnnSafeMode
{
    private const string EnvironmentVariable = OneDnnMode.EnvironmentVariable;

    /// <summary>oneDNN's own cap on the instruction sets its kernels use.</summary>
    internal const string IsaCapVariable = "ONEDNN_MAX_CPU_ISA";

    private static readonly object Gate = new();
    private static OneDnnMode? mode;

    /// <summary>Decides and applies the mode once per process; idempotent.</summary>
    internal static OneDnnMode EnsureApplied()
    {
        lock (Gate)
        {
            if (mode is not null) return mode;
            string setting = ReadSetting();
            var cpuid = CpuidRegisters.OfThisProcessor();
            var decided = Decide(setting, cpuid is null ? null : OneDnnCacheView.Read(cpuid));
            if (decided.SafeMode) decided = CapIsa(decided);
            return mode = decided;
        }
    }

    /// <summary>The decision for a setting and what was read of the processor (null: not x86).</summary>
    internal static OneDnnMode Decide(string setting, OneDnnCacheView? view) => setting switch
    {
        "on" => new OneDnnMode(true, $"forced by {EnvironmentVariable}=on" + (view is { Healthy: true } ? " (this processor's cache sizes look sound)" : "")),
        "off" => new OneDnnMode(false, $"forced by {EnvironmentVariable}=off" +
                                       (view is { Healthy: false } ? $", although {view.Problem}: results may be wrong" : "")),
        _ when view is null => new OneDnnMode(false, "not an x86 processor"),
        _ when view.Healthy => new OneDnnMode(false, $"this {view.Vendor} processor reports its cache sizes"),
        _ => new OneDnnMode(true, $"{view.Problem}"),
    };

    private static string ReadSetting()
    {
        string value = (Environment.GetEnvironmentVariable(EnvironmentVariable) ?? "auto").Trim().ToLowerInvariant();
        if (value is "" or "auto" or "on" or "off") return value is "" ? "auto" : value;
        throw new InvalidOperationException($"{EnvironmentVariable} is '{value}'; expected on, off or auto.");
    }

    private static OneDnnMode CapIsa(OneDnnMode decided)
    {
        string? existing = NativeEnvironment.Get(IsaCapVariable);
        if (existing?.Trim().ToUpperInvariant() is "SSE41" or "AVX")
            return decided with { Reason = $"{decided.Reason}; oneDNN kept to {existing} by the process's {IsaCapVariable}" };
        NativeEnvironment.Set(IsaCapVariable, "AVX");
        string replaced = existing is null ? "" : $" (replacing {existing}, whose kernels misread the caches too)";
        string late = NativeEnvironment.LibtorchLoaded
            ? $"; libtorch was loaded before this library: if it already ran a convolution, the cap comes too late, so set {IsaCapVariable}=AVX before the process starts"
            : "";
        return decided with { Reason = $"{decided.Reason}; oneDNN capped to its AVX kernels by {IsaCapVariable}=AVX{replaced}{late} " +
                                       $"(set {EnvironmentVariable}=off to run every kernel anyway)" };
    }
}
