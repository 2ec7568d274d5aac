using SpatialPrediction.ML.Performance;
using SpatialPrediction.ML.Objectives;

namespace SpatialPrediction.ML.Tests.Performance;

/// <summary>The numbers the performance report derives: counted FLOPs, the memory trend, and which targets are met.</summary>
public class PerformanceReportArithmeticTests
{
    [Test]
    public void ResNet18_at_224_px_counts_the_published_1_8_billion_multiply_adds()
    {
        // TorchVision's model card: ResNet-18, 1.81 GFLOPS (multiply-adds) at 224 px.
        ResNetFlops.ForwardFlops(224).Should().BeApproximately(2 * 1.814e9, 0.01 * 2 * 1.814e9);
        // At sides that are multiples of 32 every feature map scales with the area.
        ResNetFlops.ForwardFlops(64).Should().BeApproximately(ResNetFlops.ForwardFlops(224) * 64 * 64 / (224.0 * 224), 1e3);
    }

    [Test]
    public void SP_adds_a_quarter_to_SimCLR_and_less_to_DINO()
    {
        var simclr = new TrainingWorkload(SslFramework.SimClr, false, 64, 64);
        var dino = new TrainingWorkload(SslFramework.Dino, false, 64, 64);

        ((simclr with { SpatialPrediction = true }).FlopsPerImage() / simclr.FlopsPerImage()).Should().BeApproximately(1.25, 1e-9);
        ((dino with { SpatialPrediction = true }).FlopsPerImage() / dino.FlopsPerImage()).Should().BeInRange(1.13, 1.15);
    }

    [Test]
    public void Memory_drift_is_the_trend_not_the_last_sample()
    {
        var rng = new Random(1);
        var noisyFlat = Enumerable.Range(0, 1000).Select(_ => 400 + 40 * (rng.NextDouble() - 0.5)).ToList();
        noisyFlat[^1] = 440; // a high last sample alone must not read as growth
        var leaking = Enumerable.Range(0, 1000).Select(i => 400 + 0.05 * i).ToList();

        Math.Abs(MemoryDrift.Summarise("flat", noisyFlat).DriftPercent).Should().BeLessThan(1);
        MemoryDrift.Summarise("leak", leaking).DriftPercent.Should().BeApproximately(100 * 0.05 * 900 / (400 + 0.05 * 99), 0.01, "the fitted rise from the sample at 10 % (index 99) to the last, relative to its value");
    }

    [Test]
    public void A_heap_that_settles_early_rises_from_10_percent_but_not_in_the_second_half_and_a_leak_rises_in_both()
    {
        var settling = Enumerable.Range(0, 1000).Select(i => 850 + 130 * (1 - Math.Exp(-i / 100.0))).ToList();
        var leaking = Enumerable.Range(0, 1000).Select(i => 400 + 0.05 * i).ToList();

        var settled = MemoryDrift.Summarise("settling", settling);
        settled.DriftPercent.Should().BeGreaterThan(2, "the rise before a quarter of the run counts from 10 %");
        Math.Abs(settled.SecondHalfDriftPercent).Should().BeLessThan(0.5);
        MemoryDrift.Summarise("leak", leaking).SecondHalfDriftPercent.Should().BeApproximately(100 * 0.05 * 500 / (400 + 0.05 * 499), 0.01);
    }

    [Test]
    public void The_gate_reads_a_settled_heap_as_flat_and_a_leak_over_the_whole_span()
    {
        var settling = Enumerable.Range(0, 1000).Select(i => 850 + 130 * (1 - Math.Exp(-i / 100.0))).ToList();
        var leaking = Enumerable.Range(0, 1000).Select(i => 400 + 0.05 * i).ToList();
        var leakingAfterSettling = settling.Select((y, i) => y + 0.1 * i).ToList();

        Math.Abs(MemoryDrift.Summarise("settling", settling).SettledDriftPercent).Should().BeLessThan(0.5);
        MemoryDrift.Summarise("leak", leaking).SettledDriftPercent.Should().BeApproximately(100 * 0.05 * 900 / (400 + 0.05 * 499), 0.01,
            "the second half's slope over the 900 samples from 10 % to the end, relative to the line at the middle (index 499)");
        MemoryDrift.Summarise("leak after settling", leakingAfterSettling).SettledDriftPercent.Should().BeGreaterThan(5, "90 MB over the span on ~1,030 MB");
    }

    [Test]
    public void Targets_are_judged_on_the_ratio_or_on_our_value()
    {
        new BenchmarkRow("t", "m", 60, "img/s", "peer", 50, BenchmarkTarget.RatioAtLeast(1.2)).Met.Should().BeTrue();
        new BenchmarkRow("t", "m", 59, "img/s", "peer", 50, BenchmarkTarget.RatioAtLeast(1.2)).Met.Should().BeFalse();
        new BenchmarkRow("t", "m", 59, "img/s", "peer", null, BenchmarkTarget.RatioAtLeast(1.2)).Met.Should().BeNull("the peer did not run");
        new BenchmarkRow("t", "m", 26, "%", Target: BenchmarkTarget.AtMost(25)).Met.Should().BeFalse();
    }

    [Test]
    public void A_percentage_near_zero_reads_as_a_number_and_a_tiny_difference_keeps_its_exponent()
    {
        var table = new BenchmarkTable();
        table.Add(new BenchmarkRow("memory", "drift", 0.0016, "%"));
        table.Add(new BenchmarkRow("featurization", "max abs diff", 0.000017, ""));

        var lines = table.ToMarkdown().Split('\n');
        lines[2].Should().Contain("| 0.00 % |");
        lines[3].Should().Contain("| 1.7E-005  |");
    }
}

public class HardwareCeilingTests
{
    private static string CpuInfo(string vendor, int family, string flags, string mhz = "2600.000", int model = 2)
        => $"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: {model}\ncpu MHz\t\t: {mhz}\nflags\t\t: {flags}\n\nprocessor\t: 1\n";

    [Test]
    public void The_peak_is_cores_times_clock_times_lanes_times_two_times_units()
    {
        var zen5 = SpatialPrediction.ML.Performance.HardwareCeiling.Estimate(CpuInfo("AuthenticAMD", 26, "fpu avx2 fma avx512f avx512_bf16"), 2)!;
        var zen4 = SpatialPrediction.ML.Performance.HardwareCeiling.Estimate(CpuInfo("AuthenticAMD", 25, "avx2 fma avx512f"), 2)!;
        var intel = SpatialPrediction.ML.Performance.HardwareCeiling.Estimate(CpuInfo("GenuineIntel", 6, "avx2 fma avx512f", "2000.0"), 4)!;

        zen5.GigaflopsPerSecond.Should().BeApproximately(2 * 2.6 * 16 * 2 * 2, 1e-9);
        zen4.GigaflopsPerSecond.Should().BeApproximately(2 * 2.6 * 8 * 2 * 2, 1e-9, "Zen 4 runs AVX-512 on 256-bit pipes");
        intel.GigaflopsPerSecond.Should().BeApproximately(4 * 2.0 * 16 * 2 * 2, 1e-9);
        zen5.How.Should().Contain("2 cores × 2.60 GHz (/proc/cpuinfo) × 16 lanes");
        SpatialPrediction.ML.Performance.HardwareCeiling.Estimate(CpuInfo("SomeVendor", 1, "neon"), 2).Should().BeNull("an unknown part is not guessed");
    }

    [Test]
    public void A_measured_clock_replaces_the_nominal_one_and_the_note_says_so()
    {
        var nominal = SpatialPrediction.ML.Performance.HardwareCeiling.Estimate(CpuInfo("AuthenticAMD", 25, "avx2 fma avx512f avx512_bf16"), 2)!;
        var measured = SpatialPrediction.ML.Performance.HardwareCeiling.Estimate(CpuInfo("AuthenticAMD", 25, "avx2 fma avx512f avx512_bf16"), 2, 3600)!;
        var bf16 = SpatialPrediction.ML.Performance.HardwareCeiling.EstimateBFloat16(CpuInfo("AuthenticAMD", 25, "avx2 fma avx512f avx512_bf16"), 2, 3600)!;

        measured.GigaflopsPerSecond.Should().BeApproximately(nominal.GigaflopsPerSecond * 3600 / 2600, 1e-9);
        measured.How.Should().Contain("3.60 GHz (measured").And.Contain("/proc/cpuinfo says 2.60");
        nominal.How.Should().Contain("2.60 GHz (/proc/cpuinfo)");
        bf16.GigaflopsPerSecond.Should().BeApproximately(2 * measured.GigaflopsPerSecond, 1e-9);
    }

    [Test]
    public void The_measured_clock_is_one_a_CPU_can_run_at()
    {
        // A chain the compiler had folded or run out of order would give more operations a second than any core has
        // cycles; one kept in memory instead of a register would give a fraction of a GHz.
        double mhz = SpatialPrediction.ML.Performance.MeasuredClock.Megahertz(Environment.ProcessorCount, TimeSpan.FromMilliseconds(200));

        TestContext.Out.WriteLine($"{mhz:F0} MHz");
        mhz.Should().BeInRange(800, 6500);
    }

    [Test]
    public void The_bfloat16_peak_follows_the_rate_each_vendor_issues_VDPBF16PS_at()
    {
        const string bf16Flags = "fpu avx2 fma avx512f avx512_bf16";
        var zen5 = SpatialPrediction.ML.Performance.HardwareCeiling.EstimateBFloat16(CpuInfo("AuthenticAMD", 26, bf16Flags), 2)!;
        zen5.GigaflopsPerSecond.Should().BeApproximately(2 * (2 * 2.6 * 16 * 2 * 2), 1e-9, "AMD issues VDPBF16PS at the FMA rate");
        var xeon = SpatialPrediction.ML.Performance.HardwareCeiling.EstimateBFloat16(CpuInfo("GenuineIntel", 6, bf16Flags, "2300.0", model: 207), 2)!;
        xeon.GigaflopsPerSecond.Should().BeApproximately(0.5 * (2 * 2.3 * 16 * 2 * 2), 1e-9, "this Xeon issues VDPBF16PS once every two cycles");
        SpatialPrediction.ML.Performance.HardwareCeiling.EstimateBFloat16(CpuInfo("GenuineIntel", 6, bf16Flags, model: 85), 2)
            .Should().BeNull("another Intel part's rate is not known, so not guessed");
        SpatialPrediction.ML.Performance.HardwareCeiling.EstimateBFloat16(CpuInfo("GenuineIntel", 6, bf16Flags + " amx_bf16", model: 207), 2)
            .Should().BeNull("with AMX the tiles set the peak, not VDPBF16PS");
        SpatialPrediction.ML.Performance.HardwareCeiling.EstimateBFloat16(CpuInfo("AuthenticAMD", 25, "avx2 fma avx512f"), 2).Should().BeNull();
    }
}
