using System.Diagnostics;
using System.Text.RegularExpressions;
using SpatialPrediction.ML.Machine;

namespace SpatialPrediction.ML.Tests.Machine;

/// <summary>
/// The safe mode where it must act, before libtorch's first oneDNN kernel: each case a fresh child process (the
/// CrashHarness's onednn mode) that trains twice on two threads and runs ResNet-50 forward and backward. The forced
/// safe mode runs on every machine, so CI checks it everywhere, not only where CPUID hides the caches.
/// </summary>
[NonParallelizable]
public class OneDnnSafeModeProcessTests
{
    private static string HarnessDll()
    {
        string testOutput = AppContext.BaseDirectory;
        string marker = $"{Path.DirectorySeparatorChar}SpatialPrediction.ML.Tests{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}";
        int at = testOutput.LastIndexOf(marker, StringComparison.Ordinal);
        return Path.Combine(testOutput[..at], "SpatialPrediction.ML.CrashHarness", "bin", testOutput[(at + marker.Length)..], "SpatialPrediction.ML.CrashHarness.dll");
    }

    private static (int ExitCode, Dictionary<string, string> Lines, string Output) Run(string? setting, string cacheFolder)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(HarnessDll());
        start.ArgumentList.Add("onednn");
        start.Environment.Remove(OneDnnMode.EnvironmentVariable);
        start.Environment.Remove("ONEDNN_MAX_CPU_ISA");
        if (setting is not null) start.Environment[OneDnnMode.EnvironmentVariable] = setting;
        start.Environment["ONEDNN_VERBOSE"] = "1"; // oneDNN prints the instruction set it settled on
        start.Environment["XDG_CACHE_HOME"] = cacheFolder;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var lines = output.Split('\n')
            .Select(line => Regex.Match(line.TrimEnd(), "^(safe mode|reason|history mode|losses|finite|identical|weights|resnet50 .*finite): (.*)$"))
            .Where(m => m.Success).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var isa = Regex.Match(output, "onednn_verbose,v1,info,cpu,isa:(.*)");
        if (isa.Success) lines["isa"] = isa.Groups[1].Value.Trim();
        return (process.ExitCode, lines, output + error.Result);
    }

    private static void AssertRightAndRepeatable((int ExitCode, Dictionary<string, string> Lines, string Output) run)
    {
        run.ExitCode.Should().Be(0, run.Output);
        run.Lines["finite"].Should().Be("True", run.Output);
        run.Lines["identical"].Should().Be("True", "two runs with the same seed and options in one process give the same weights and losses");
        run.Lines["resnet50 2x2048 finite"].Should().Be("True");
    }

    [Test]
    public void Forced_on_caps_oneDNN_to_AVX_before_its_first_kernel_and_trains_right_and_repeatably()
    {
        if (CpuidRegisters.OfThisProcessor() is null) Assert.Inconclusive("The safe mode is an x86 matter.");
        string cache = Directory.CreateTempSubdirectory("sp-onednn-").FullName;
        try
        {
            var run = Run("on", cache);

            AssertRightAndRepeatable(run);
            run.Lines["safe mode"].Should().Be("True");
            run.Lines["history mode"].Should().Be("True", "the run's history records the mode");
            run.Lines["isa"].Should().StartWith("Intel AVX").And.NotStartWith("Intel AVX2").And.NotContain("512", "oneDNN saw the cap");
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Test]
    public void Auto_decides_as_the_processor_says_and_two_processes_train_the_same_weights()
    {
        string cache = Directory.CreateTempSubdirectory("sp-onednn-").FullName;
        try
        {
            var first = Run(null, cache);  // measures the layout and caches the choice
            var second = Run(null, cache); // reads it

            AssertRightAndRepeatable(first);
            AssertRightAndRepeatable(second);
            var cpuid = CpuidRegisters.OfThisProcessor();
            bool affected = cpuid is not null && !OneDnnCacheView.Read(cpuid).Healthy;
            first.Lines["safe mode"].Should().Be(affected ? "True" : "False", first.Lines["reason"]);
            second.Lines["weights"].Should().Be(first.Lines["weights"], "same seed, same options, same machine: the same weights");
            second.Lines["losses"].Should().Be(first.Lines["losses"]);
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Test]
    public void A_setting_other_than_on_off_or_auto_stops_the_run_with_the_valid_values()
    {
        string cache = Directory.CreateTempSubdirectory("sp-onednn-").FullName;
        try
        {
            var run = Run("maybe", cache);

            run.ExitCode.Should().NotBe(0);
            run.Output.Should().Contain("SPATIAL_PREDICTION_ONEDNN_SAFE_MODE is 'maybe'; expected on, off or auto.");
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }
}
