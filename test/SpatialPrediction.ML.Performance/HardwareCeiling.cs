using System.Globalization;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// The CPU's float32 peak from its hardware: cores × clock × FP32 lanes per FMA unit × 2 (an FMA is two operations) ×
/// FMA units per core. Lanes and units come from the vendor's documentation of each microarchitecture (by the CPU's
/// vendor, family and flags); the clock is the one <see cref="MeasuredClock"/> measures with every core busy, where
/// given, since /proc/cpuinfo's is the nominal one and a part that boosts above it would exceed that "peak". Null
/// where the part is not known; the report then says so instead of guessing.
/// </summary>
internal static class HardwareCeiling
{
    public sealed record Peak(double GigaflopsPerSecond, string How);

    private static readonly Lazy<double> ClockOfThisMachine = new(() => MeasuredClock.Megahertz(Environment.ProcessorCount, TimeSpan.FromSeconds(1)));

    public static Peak? Estimate() => File.Exists("/proc/cpuinfo") ? Estimate(File.ReadAllText("/proc/cpuinfo"), Environment.ProcessorCount, ClockOfThisMachine.Value) : null;

    /// <summary>
    /// The peak of <paramref name="cores"/> cores of the first processor that <paramref name="cpuinfo"/> describes, at
    /// <paramref name="measuredMegahertz"/> where given and at the clock <paramref name="cpuinfo"/> reports otherwise.
    /// </summary>
    public static Peak? Estimate(string cpuinfo, int cores, double? measuredMegahertz = null)
        => Estimate(SpatialPrediction.ML.Machine.CpuDescription.Parse(cpuinfo), cores, measuredMegahertz);

    private static Peak? Estimate(SpatialPrediction.ML.Machine.CpuDescription? description, int cores, double? measuredMegahertz)
    {
        if (description is not { Vendor.Length: > 0 } cpu || (cpu.Megahertz <= 0 && measuredMegahertz is null)) return null;
        var (vendor, family, flags) = (cpu.Vendor, cpu.Family, cpu.Flags);
        double mhz = measuredMegahertz ?? cpu.Megahertz;
        string clock = measuredMegahertz is null
            ? "GHz (/proc/cpuinfo)"
            : FormattableString.Invariant($"GHz (measured, every core busy; /proc/cpuinfo says {cpu.Megahertz / 1000:F2})");
        bool avx512 = flags.Contains("avx512f"), avx2 = flags.Contains("avx2") && flags.Contains("fma");
        (int Lanes, int Units, string Part)? unit = (vendor, family) switch
        {
            ("AuthenticAMD", 26) when avx512 => (16, 2, "Zen 5: two 512-bit FMA pipes"),
            ("AuthenticAMD", 25) when avx512 => (8, 2, "Zen 4: two 256-bit FMA pipes, AVX-512 in two halves"),
            ("AuthenticAMD", 25 or 23) when avx2 => (8, 2, "Zen 2/3: two 256-bit FMA pipes"),
            ("GenuineIntel", _) when avx512 => (16, 2, "Intel AVX-512, assuming two 512-bit FMA units per core (server parts; some have one)"),
            ("GenuineIntel", _) when avx2 => (8, 2, "Intel AVX2: two 256-bit FMA units"),
            _ => null,
        };
        if (unit is not { } u) return null;
        double peak = cores * mhz / 1000 * u.Lanes * 2 * u.Units;
        return new Peak(peak, FormattableString.Invariant($"{cores} cores × {mhz / 1000:F2} {clock} × {u.Lanes} lanes × 2 (FMA) × {u.Units} units; {u.Part}"));
    }

    /// <summary>
    /// The bfloat16 peak where the CPU has AVX512-BF16: VDPBF16PS multiplies two bfloat16 pairs into every float32
    /// lane. AMD's parts issue it at the FMA rate, so twice the float32 peak; the Intel Xeon of issue 20 (family 6
    /// model 207) issues one every two cycles, a timed loop of independent VDPBF16PS against one of FMAs showed, so half
    /// the float32 peak there, and on other Intel parts it is not known. Null where the flag is missing, where AMX is
    /// present (its tiles, not VDPBF16PS, then set the peak) or the part is not known.
    /// </summary>
    public static Peak? EstimateBFloat16(string cpuinfo, int cores, double? measuredMegahertz = null)
    {
        var cpu = SpatialPrediction.ML.Machine.CpuDescription.Parse(cpuinfo);
        if (Estimate(cpu, cores, measuredMegahertz) is not { } fp32) return null;
        var flags = cpu!.Flags;
        if (!flags.Contains("avx512_bf16") || flags.Contains("amx_bf16")) return null;
        return (cpu.Vendor, cpu.Family, cpu.Model) switch
        {
            ("AuthenticAMD", _, _) => new Peak(2 * fp32.GigaflopsPerSecond,
                "2 × the float32 peak: VDPBF16PS does two bfloat16 products per float32 lane at the FMA rate"),
            ("GenuineIntel", 6, 207) => new Peak(0.5 * fp32.GigaflopsPerSecond,
                "0.5 × the float32 peak: VDPBF16PS does two bfloat16 products per float32 lane but issues once every two cycles here (a timed loop: 1.3 G a second per core against 5.2 G FMAs)"),
            _ => null,
        };
    }

    public static Peak? EstimateBFloat16() => File.Exists("/proc/cpuinfo") ? EstimateBFloat16(File.ReadAllText("/proc/cpuinfo"), Environment.ProcessorCount, ClockOfThisMachine.Value) : null;
}
