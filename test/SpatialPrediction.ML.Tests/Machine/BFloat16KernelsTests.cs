using SpatialPrediction.ML.Machine;
using FluentAssertions;
using NUnit.Framework;
using SpatialPrediction.ML.Backbones;
using static SpatialPrediction.ML.Tests.Machine.CpuDescriptionTests;

namespace SpatialPrediction.ML.Tests.Machine;

public class BFloat16KernelsTests : TemporaryFolderTest
{
    protected override string Prefix => "bf16-kernels-";

    [Test]
    public void Bfloat16_is_called_emulated_only_on_x86_CPUs_without_AVX512_BF16_or_AMX()
    {
        BFloat16Kernels.MissingOn(CpuDescription.Parse(X86(25, 1, "sse2 avx2 fma"))).Should()
            .Contain("AMD EPYC, family 25 model 1").And.Contain("avx512_bf16").And.Contain("slower");
        BFloat16Kernels.MissingOn(CpuDescription.Parse(X86(26, 2, "sse2 avx512f avx512_bf16"))).Should().BeNull();
        BFloat16Kernels.MissingOn(CpuDescription.Parse(X86(6, 143, "sse2 avx512f amx_bf16 amx_tile"))).Should().BeNull();
        BFloat16Kernels.MissingOn(CpuDescription.Parse(Arm)).Should().BeNull("no claim is made about ARM");
        BFloat16Kernels.MissingOn((CpuDescription?)null).Should().BeNull("nothing is known without /proc/cpuinfo");
    }

    [Test]
    public void A_CPU_with_the_instructions_is_called_slower_only_when_its_bfloat16_product_measured_slower()
    {
        var withKernels = CpuDescription.Parse(X86(6, 207, "sse2 avx512f avx512_bf16"));
        BFloat16Kernels.SlowerOn(withKernels, () => (247, 145), Path.Combine(Folder, "slower")).Should()
            .Contain("family 6 model 207").And.Contain("0.59×").And.Contain("145 against 247 GFLOP/s");
        BFloat16Kernels.SlowerOn(withKernels, () => (210, 380), Path.Combine(Folder, "faster")).Should().BeNull("bfloat16 pays there");
    }

    [Test]
    public void The_measurement_is_made_once_per_machine_and_not_at_all_where_the_flags_settle_it()
    {
        var withKernels = CpuDescription.Parse(X86(26, 2, "sse2 avx512f avx512_bf16"));
        int measured = 0;
        (double, double) Measure() { measured++; return (200, 100); }

        var first = BFloat16Kernels.SlowerOn(withKernels, Measure, Folder);
        var second = BFloat16Kernels.SlowerOn(withKernels, Measure, Folder);
        measured.Should().Be(1, "the second call reads the cached rates");
        second.Should().Be(first).And.Contain("0.50×");

        BFloat16Kernels.SlowerOn(CpuDescription.Parse(X86(25, 1, "sse2 avx2 fma")), Measure, Folder).Should().Contain("emulates");
        BFloat16Kernels.SlowerOn(CpuDescription.Parse(Arm), Measure, Folder).Should().BeNull("no claim is made about ARM");
        measured.Should().Be(1, "neither an emulating nor an ARM CPU is measured");

        BFloat16Kernels.SlowerOn(CpuDescription.Parse(X86(25, 17, "sse2 avx512f avx512_bf16")), () => (120, 350), Folder)
            .Should().BeNull("another CPU's rates are its own entry, measured for it");
    }
}
