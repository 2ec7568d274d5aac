using SpatialPrediction.ML.Machine;
using FluentAssertions;
using NUnit.Framework;
using SpatialPrediction.ML.Backbones;

namespace SpatialPrediction.ML.Tests.Machine;

public class CpuDescriptionTests
{
    internal static string X86(int family, int model, string flags)
        => $"processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: {family}\nmodel\t\t: {model}\nmodel name\t: AMD EPYC\nstepping\t: 1\n" +
           $"cpu MHz\t\t: 2445.406\nflags\t\t: {flags}\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n";

    internal const string Arm = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd sve bf16\nCPU implementer\t: 0x41\nCPU part\t: 0xd40\n";

    [Test]
    public void The_first_processor_is_read_and_x86_flags_and_ARM_features_both_become_flags()
    {
        var cpu = CpuDescription.Parse(X86(25, 1, "fpu sse2 avx2 fma"))!;
        cpu.Vendor.Should().Be("AuthenticAMD", "the second processor's vendor is not read");
        (cpu.ModelName, cpu.Family, cpu.Model, cpu.Stepping).Should().Be(("AMD EPYC", 25, 1, 1));
        cpu.Megahertz.Should().BeApproximately(2445.406, 1e-9);
        cpu.Flags.Should().BeEquivalentTo(new[] { "fpu", "sse2", "avx2", "fma" });
        cpu.ToString().Should().Be("AMD EPYC, family 25 model 1");

        CpuDescription.Parse(Arm)!.Flags.Should().Contain("bf16");
        CpuDescription.Parse("\n\n").Should().BeNull();
    }

    [Test]
    public void Parts_a_virtual_machine_names_alike_get_different_identities()
    {
        string zen3 = CpuDescription.Parse(X86(25, 1, "sse2 avx2 fma"))!.Identity;
        string zen5 = CpuDescription.Parse(X86(26, 2, "sse2 avx2 fma avx512f avx512_bf16"))!.Identity;
        string zen5Masked = CpuDescription.Parse(X86(26, 2, "sse2 avx2 fma"))!.Identity;

        new[] { zen3, zen5, zen5Masked }.Should().OnlyHaveUniqueItems("the model name is \"AMD EPYC\" in all three");
        CpuDescription.Parse(X86(26, 2, "fma avx2 sse2"))!.Identity.Should().Be(zen5Masked, "the flags' order does not matter");
        zen3.Should().NotContain("|", "the calibration cache separates its key's parts with '|'");
    }
}
