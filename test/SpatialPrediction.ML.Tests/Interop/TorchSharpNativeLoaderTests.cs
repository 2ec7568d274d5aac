using System.Diagnostics;
using SpatialPrediction.ML.Interop;

namespace SpatialPrediction.ML.Tests.Interop;

/// <summary>
/// The run-time native fix, in a host where no build targets ran: a copy of an application folder whose
/// libLibTorchSharp.so is the unpatched one from the NuGet cache, run as a child process.
/// </summary>
[NonParallelizable]
public class TorchSharpNativeLoaderTests
{
    private static string Harness(out string folder)
    {
        string testOutput = AppContext.BaseDirectory;
        string marker = $"{Path.DirectorySeparatorChar}SpatialPrediction.ML.Tests{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}";
        int at = testOutput.LastIndexOf(marker, StringComparison.Ordinal);
        folder = Path.Combine(testOutput[..at], "SpatialPrediction.ML.CrashHarness", "bin", testOutput[(at + marker.Length)..]);
        return Path.Combine(folder, "SpatialPrediction.ML.CrashHarness.dll");
    }

    private static (int ExitCode, string Output) Run(string dll, IDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("probe");
        foreach (var (key, value) in environment) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }

    [Test]
    public void Without_the_build_fix_TorchSharp_still_loads_through_a_patched_copy_in_the_user_cache()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                          ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string pristine = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!OperatingSystem.IsLinux() || !File.Exists(pristine))
            Assert.Inconclusive($"Needs Linux x64 and the TorchSharp 0.107.0 package in {packages}.");
        string dll = Harness(out string built);
        string root = Directory.CreateTempSubdirectory("sp-native-").FullName;
        try
        {
            string app = Path.Combine(root, "app");
            foreach (var file in Directory.GetFiles(built, "*", SearchOption.AllDirectories))
            {
                string target = Path.Combine(app, Path.GetRelativePath(built, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
            string appLibrary = Path.Combine(app, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
            File.Copy(pristine, appLibrary, overwrite: true); // as if no build targets had run
            string appDll = Path.Combine(app, Path.GetFileName(dll));
            var cache = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = Path.Combine(root, "cache") };

            var fixedRun = Run(appDll, cache);
            var unfixedRun = Run(appDll, new Dictionary<string, string>(cache) { ["SPATIAL_PREDICTION_NATIVE_FIX"] = "off" });

            TestContext.Out.WriteLine(fixedRun.Output);
            fixedRun.ExitCode.Should().Be(0, fixedRun.Output);
            fixedRun.Output.Should().Contain("sum: 3");
            File.ReadAllBytes(appLibrary).Should().Equal(File.ReadAllBytes(pristine), "the application's copy is never edited at run time");
            if (ElfVersionNeedPatcher.SystemLibStdCxxDefines(ElfVersionNeedPatcher.TorchSharpGlibcxxVersion) == false)
            {
                fixedRun.Output.Should().Contain("loaded patched copy");
                Directory.GetFiles(Path.Combine(root, "cache", "spatial-prediction", "native"), "libLibTorchSharp.so", SearchOption.AllDirectories)
                    .Should().ContainSingle();
                unfixedRun.ExitCode.Should().NotBe(0, "without the fix the library does not load here, so the test above proves the fix");
                unfixedRun.Output.Should().Contain("Failed to load native component LibTorchSharp");
            }
            else
            {
                fixedRun.Output.Should().Contain("not needed");
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
