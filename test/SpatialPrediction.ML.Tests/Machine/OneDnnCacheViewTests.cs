using SpatialPrediction.ML.Machine;

namespace SpatialPrediction.ML.Tests.Machine;

/// <summary>
/// The detection on recorded CPUID answers: the KVM guest on which libtorch's oneDNN crashed and computed wrong
/// results, the healthy AMD EPYC (Zen 3) these tests were written on, a healthy Intel Xeon and variants of each.
/// </summary>
public class OneDnnCacheViewTests
{
    private const uint AmdEcx = 0x444d4163, IntelEcx = 0x6c65746e;

    /// <summary>Answers from a table; leaves it does not list answer zero, as AMD processors answer unknown leaves.</summary>
    private static Func<uint, uint, CpuidRegisters> Answers(Dictionary<(uint Leaf, uint Subleaf), CpuidRegisters> table)
        => (leaf, subleaf) => table.TryGetValue((leaf, subleaf), out var answer) ? answer : default;

    /// <summary>
    /// The affected guest (AMD EPYC family 26 model 2, KVM): leaves 4, 0x8000001D and 0x8000001E all zero although
    /// <c>topoext</c> is set; leaf 1 and 0x80000005/6 as recorded there. Its highest basic leaf and leaf 0xB were not
    /// recorded: 0x10 and two logical processors, one per core, stand in for them.
    /// </summary>
    private static Dictionary<(uint, uint), CpuidRegisters> AffectedZen5() => new()
    {
        [(0, 0)] = new(0x10, 0x68747541, AmdEcx, 0x69746e65),
        [(1, 0)] = new(0x00B00F21, 0x30fe0800, 0, 0),
        [(0xB, 0)] = new(0, 1, 0x100, 0),
        [(0xB, 1)] = new(1, 2, 0x201, 0),
        [(0x80000000, 0)] = new(0x80000028, 0, 0, 0),
        [(0x80000005, 0)] = new(0, 0, 0x300c0140, 0x20080140),
        [(0x80000006, 0)] = new(0, 0, 0x04006140, 0x0fe09140),
    };

    /// <summary>This development machine, a 2-core AMD EPYC (Zen 3, family 25 model 1) KVM guest that reports its caches.</summary>
    private static Dictionary<(uint, uint), CpuidRegisters> HealthyZen3() => new()
    {
        [(0, 0)] = new(0x10, 0x68747541, AmdEcx, 0x69746e65),
        [(1, 0)] = new(0x00a00f11, 0x01020800, 0xfffa3203, 0x178bfbff),
        [(0xB, 0)] = new(0, 1, 0x100, 1),
        [(0xB, 1)] = new(5, 2, 0x201, 1),
        [(0x80000000, 0)] = new(0x80000022, 0, 0, 0),
        [(0x8000001D, 0)] = new(0x121, 0x01c0003f, 0x3f, 0),
        [(0x8000001D, 1)] = new(0x122, 0x01c0003f, 0x3f, 0),
        [(0x8000001D, 2)] = new(0x143, 0x01c0003f, 0x3ff, 2),
        [(0x8000001D, 3)] = new(0x4163, 0x03c0003f, 0x7fff, 1),
    };

    /// <summary>
    /// An Intel Xeon (Sapphire Rapids class) guest with two logical processors on one core, encoded per the SDM's leaf 4:
    /// 48 KiB 12-way L1d, 2 MiB 16-way L2, 105 MiB 15-way L3.
    /// </summary>
    private static Dictionary<(uint, uint), CpuidRegisters> HealthyXeon() => new()
    {
        [(0, 0)] = new(0x20, 0x756e6547, IntelEcx, 0x49656e69),
        [(0xB, 0)] = new(1, 2, 0x100, 0),
        [(0xB, 1)] = new(1, 2, 0x201, 0),
        [(4, 0)] = new(0x121 | (1 << 14), (11u << 22) | 63, 63, 0),
        [(4, 1)] = new(0x122 | (1 << 14), (7u << 22) | 63, 63, 0),
        [(4, 2)] = new(0x143 | (1 << 14), (15u << 22) | 63, 2047, 0),
        [(4, 3)] = new(0x163 | (1 << 14), (14u << 22) | 63, 114687, 0),
    };

    [Test]
    public void The_guest_that_hides_its_caches_is_found_with_the_one_byte_caches_oneDNN_would_use()
    {
        var view = OneDnnCacheView.Read(Answers(AffectedZen5()));

        view.Healthy.Should().BeFalse();
        view.Vendor.Should().Be("AMD");
        view.PerCoreCacheBytes.Should().Equal(1, 1, 1);
        view.Problem.Should().Contain("0x8000001D subleaf 0, 2, 3 describes no cache").And.Contain("L1 1 B");
    }

    [Test]
    public void An_AMD_guest_without_the_topology_leaf_is_found_since_oneDNN_divides_by_a_zero_thread_count()
    {
        var answers = HealthyZen3();
        answers[(0, 0)] = answers[(0, 0)] with { Eax = 0xA };

        var view = OneDnnCacheView.Read(Answers(answers));

        view.Healthy.Should().BeFalse();
        view.Problem.Should().Contain("no leaf 0xB");
    }

    [Test]
    public void One_zeroed_cache_level_is_enough()
    {
        var answers = HealthyZen3();
        answers[(0x8000001D, 2)] = default;

        var view = OneDnnCacheView.Read(Answers(answers));

        view.Healthy.Should().BeFalse();
        view.Problem.Should().Contain("subleaf 2 describes no cache");
        view.PerCoreCacheBytes[0].Should().Be(32 * 1024);
    }

    [Test]
    public void The_healthy_Zen_3_keeps_oneDNN_with_the_sizes_it_reports()
    {
        var view = OneDnnCacheView.Read(Answers(HealthyZen3()));

        view.Healthy.Should().BeTrue(view.Problem);
        // L3: 32 MiB shared by the two logical processors leaf 0x8000001D says share it.
        view.PerCoreCacheBytes.Should().Equal(32 * 1024, 512 * 1024, 16 * 1024 * 1024);
    }

    [Test]
    public void The_healthy_Xeon_keeps_oneDNN()
    {
        var view = OneDnnCacheView.Read(Answers(HealthyXeon()));

        view.Healthy.Should().BeTrue(view.Problem);
        view.Vendor.Should().Be("Intel");
        view.PerCoreCacheBytes.Should().Equal(48 * 1024, 2 * 1024 * 1024, 105 * 1024 * 1024);
    }

    [Test]
    public void An_Intel_guest_with_leaf_4_zeroed_is_left_alone_because_oneDNN_then_falls_back_to_its_own_guesses()
    {
        var answers = HealthyXeon();
        foreach (uint subleaf in new uint[] { 0, 1, 2, 3 }) answers.Remove((4, subleaf));

        var view = OneDnnCacheView.Read(Answers(answers));

        view.Healthy.Should().BeTrue();
        view.PerCoreCacheBytes.Should().Equal(32 * 1024, 512 * 1024, 1024 * 1024);
    }

    [Test]
    public void An_Intel_leaf_4_that_describes_a_tiny_cache_is_found()
    {
        var answers = HealthyXeon();
        answers[(4, 0)] = answers[(4, 0)] with { Ebx = 0, Ecx = 0 }; // type 1 (data), every size field zero: 1 byte

        var view = OneDnnCacheView.Read(Answers(answers));

        view.Healthy.Should().BeFalse();
        view.Problem.Should().Contain("L1 data cache of 1 bytes");
    }

    [Test]
    public void Another_vendor_is_left_alone()
    {
        var view = OneDnnCacheView.Read(Answers(new() { [(0, 0)] = new(0x10, 0x6f677948, 0x656e6975, 0x6e65476e) })); // HygonGenuine

        view.Healthy.Should().BeTrue();
        view.Vendor.Should().Be("other");
    }

    [Test]
    public void This_processor_reads_without_error()
    {
        var cpuid = CpuidRegisters.OfThisProcessor();
        if (cpuid is null) Assert.Inconclusive("Not an x86 processor.");

        var view = OneDnnCacheView.Read(cpuid);

        TestContext.Out.WriteLine($"{view.Vendor}: {string.Join(", ", view.PerCoreCacheBytes)} bytes per core; {view.Problem ?? "healthy"}");
        bool cacheFolder = Directory.Exists("/sys/devices/system/cpu/cpu0/cache");
        if (OperatingSystem.IsLinux() && view.Vendor == "AMD")
            view.Healthy.Should().Be(cacheFolder, "Linux lists an AMD processor's caches from the same CPUID leaf");
    }
}
