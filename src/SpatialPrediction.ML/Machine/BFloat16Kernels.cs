using static TorchSharp.torch;

namespace SpatialPrediction.ML.Machine;

/// <summary>
/// Whether bfloat16 pays on a device. libtorch's oneDNN convolutions use bfloat16 instructions on x86 CPUs with
/// AVX512-BF16 or AMX; on other x86 CPUs libtorch converts element by element and a bfloat16 training step is many times
/// slower than a float32 one. Having the instructions is not enough either: a CPU may issue them at a fraction of its
/// float32 rate (docs/performance.md has both measurements). So asking for bfloat16 where it runs slower earns a warning
/// rather than silence — from the flags where they settle it, else from a measured matrix product.
/// </summary>
internal static class BFloat16Kernels
{
    /// <summary>The side of the square matrix product timed in each precision.</summary>
    internal const int ProbeSize = 1024;

    /// <summary>
    /// Why <paramref name="device"/> has no native bfloat16 kernels, as a sentence fragment naming the CPU; null when it
    /// has them or this cannot be told (CUDA devices, a CPU without /proc/cpuinfo, an ARM CPU).
    /// </summary>
    public static string? MissingOn(Device device) => device.type == TorchSharp.DeviceType.CPU ? MissingOn(CpuDescription.Current) : null;

    /// <summary>The same for a CPU description (null: cannot tell).</summary>
    public static string? MissingOn(CpuDescription? cpu)
    {
        if (cpu is null || !cpu.Flags.Contains("sse2")) return null; // not x86, or no flags listed: no claim either way
        if (cpu.Flags.Contains("avx512_bf16") || cpu.Flags.Contains("amx_bf16")) return null;
        return $"this CPU ({cpu}) lists neither avx512_bf16 nor amx_bf16 among its flags, so libtorch emulates bfloat16 and it runs " +
               "many times slower than Float32";
    }

    /// <summary>
    /// Why bfloat16 runs slower than float32 on <paramref name="device"/>, as a sentence fragment; null when it does not
    /// or this cannot be told. On an x86 CPU with bfloat16 kernels, a <see cref="ProbeSize"/>² matrix product is timed
    /// in both precisions once per machine and library build (cached with the layout calibrations).
    /// </summary>
    public static string? SlowerOn(Device device, string? cacheFolder = null)
        => device.type == TorchSharp.DeviceType.CPU ? SlowerOn(CpuDescription.Current, MeasureMatmul, cacheFolder) : null;

    /// <summary>The same for a CPU description, with the measurement given (GFLOP/s in float32, then in bfloat16).</summary>
    internal static string? SlowerOn(CpuDescription? cpu, Func<(double Float32, double BFloat16)> measure, string? cacheFolder = null)
    {
        if (cpu is null || !cpu.Flags.Contains("sse2")) return null;
        if (MissingOn(cpu) is { } emulated) return emulated;
        string key = string.Join("|", CalibrationCache.MachineKey(cpu), ProbeSize, "bfloat16-matmul");
        var rates = CalibrationCache.GetOrMeasure("precision.json", key, cacheFolder, () =>
        {
            var (float32, bfloat16) = measure();
            return new Rates(float32, bfloat16);
        }, out _);
        if (rates.BFloat16 >= rates.Float32) return null;
        return FormattableString.Invariant(
            $"on this CPU ({cpu}) libtorch's bfloat16 matrix product measured {rates.BFloat16 / rates.Float32:F2}× the float32 one ") +
            FormattableString.Invariant($"({ProbeSize}², {rates.BFloat16:F0} against {rates.Float32:F0} GFLOP/s): the CPU has bfloat16 instructions but issues them ") +
            "below its float32 rate, so bfloat16 runs slower than Float32 here";
    }

    /// <summary>GFLOP/s of the two precisions' products, as cached.</summary>
    internal sealed record Rates(double Float32, double BFloat16);

    private static (double Float32, double BFloat16) MeasureMatmul()
    {
        using var scope = NewDisposeScope();
        var candidates = new[] { ScalarType.Float32, ScalarType.BFloat16 };
        var operands = candidates.ToDictionary(t => t, t => (A: randn(ProbeSize, ProbeSize, dtype: t), B: randn(ProbeSize, ProbeSize, dtype: t)));
        var medians = AlternatingTimer.Medians(candidates, t => operands[t].A.matmul(operands[t].B).Dispose(), rounds: 6);
        double Rate(ScalarType t) => 2.0 * ProbeSize * ProbeSize * ProbeSize / (medians.Single(m => m.Candidate == t).Milliseconds / 1000) / 1e9;
        return (Rate(ScalarType.Float32), Rate(ScalarType.BFloat16));
    }
}
