using System.Runtime.InteropServices;
using SpatialPrediction.ML.Interop;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Interop;

public class TorchSharpNativeLoadTests
{
    [Test]
    public void TorchSharp_loads_and_computes_on_this_machine()
    {
        using var x = ones(3, 4);
        using var sum = x.sum();

        sum.item<float>().Should().Be(12f);
    }

    [Test]
    public void Build_output_library_has_a_weak_GLIBCXX_3_4_32_need_exactly_when_the_system_lacks_it()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            Assert.Ignore("The native fix only applies to Linux.");
        var libraries = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        libraries.Should().NotBeEmpty("TorchSharp-cpu copies its native library into the test output");

        bool systemHasVersion = ElfVersionNeedPatcher.SystemLibStdCxxDefines(ElfVersionNeedPatcher.TorchSharpGlibcxxVersion) == true;
        foreach (var library in libraries)
        {
            var need = ElfVersionNeedPatcher.ReadVersionNeeds(File.ReadAllBytes(library))
                .SingleOrDefault(n => n.Version == ElfVersionNeedPatcher.TorchSharpGlibcxxVersion);
            need.Should().NotBeNull($"TorchSharp 0.107.0's {Path.GetFileName(library)} declares {ElfVersionNeedPatcher.TorchSharpGlibcxxVersion}, " +
                                    "the reason for the native fix; a TorchSharp without it makes the fix (and this test) obsolete");
            need!.IsWeak.Should().Be(!systemHasVersion, $"{library} should be patched only where the system lacks the version");
        }
    }
}
