using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// Whether a device runs bfloat16 on native kernels. libtorch's oneDNN convolutions use bfloat16 instructions on x86
/// CPUs with AVX512-BF16 or AMX; on other x86 CPUs libtorch converts element by element, and a bfloat16 training step
/// is many times slower than a float32 one (docs/performance.md has the measurement), so asking for bfloat16 there
/// earns a warning rather than silence.
/// </summary>
internal static class BFloat16Kernels
{
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
}
