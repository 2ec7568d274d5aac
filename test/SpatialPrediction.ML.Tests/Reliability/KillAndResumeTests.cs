using System.Diagnostics;

namespace SpatialPrediction.ML.Tests.Reliability;

/// <summary>
/// kill -9 during training, in a child process, at random steps and random moments within a step (including while a
/// checkpoint is being written), then resume in a fresh process: the final weights must equal, byte for byte, those of a
/// run that was never interrupted.
/// </summary>
[NonParallelizable]
public class KillAndResumeTests
{
    private static string HarnessPath()
    {
        string testOutput = AppContext.BaseDirectory;
        string marker = $"{Path.DirectorySeparatorChar}SpatialPrediction.ML.Tests{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}";
        int at = testOutput.LastIndexOf(marker, StringComparison.Ordinal);
        at.Should().BeGreaterThan(0, $"the test output folder {testOutput} is expected under test/SpatialPrediction.ML.Tests/bin");
        string path = Path.Combine(testOutput[..at], "SpatialPrediction.ML.CrashHarness", "bin", testOutput[(at + marker.Length)..], "SpatialPrediction.ML.CrashHarness.dll");
        File.Exists(path).Should().BeTrue($"the crash harness is built with the tests ({path})");
        return path;
    }

    private static Process Start(string checkpoints, string weights, string? imageCache)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { HarnessPath(), checkpoints, weights }.Concat(imageCache is null ? Array.Empty<string>() : imageCache.Split(' ', 2)))
            start.ArgumentList.Add(argument);
        return Process.Start(start) ?? throw new InvalidOperationException("Could not start the crash harness.");
    }

    /// <summary>Runs the harness; kills it (SIGKILL) <paramref name="delayMs"/> after it reports <paramref name="killAtStep"/>. Returns the steps it reported.</summary>
    private static List<int> Run(string checkpoints, string weights, int? killAtStep = null, int delayMs = 0, string? imageCache = null)
    {
        using var process = Start(checkpoints, weights, imageCache);
        var stderr = process.StandardError.ReadToEndAsync();
        var steps = new List<int>();
        bool killed = false;
        for (string? line = process.StandardOutput.ReadLine(); line is not null; line = process.StandardOutput.ReadLine())
        {
            if (!line.StartsWith("step ", StringComparison.Ordinal)) continue;
            steps.Add(int.Parse(line[5..]));
            if (killAtStep is int k && steps[^1] >= k && !killed)
            {
                if (delayMs > 0) Thread.Sleep(delayMs);
                process.Kill(entireProcessTree: true); // SIGKILL: no finally blocks, no flush
                killed = true;
            }
        }
        process.WaitForExit();
        if (!killed) process.ExitCode.Should().Be(0, stderr.Result);
        return steps;
    }

    [Test]
    public void Killed_runs_resume_to_the_weights_of_an_uninterrupted_run()
    {
        string folder = Directory.CreateTempSubdirectory("sp-kill-").FullName;
        try
        {
            string reference = Path.Combine(folder, "reference.bin");
            var straight = Run(Path.Combine(folder, "reference-checkpoints"), reference);
            straight.Should().Equal(Enumerable.Range(1, 30));

            var random = new Random(20261126);
            var kills = new List<string>();
            string checkpoints = Path.Combine(folder, "checkpoints"), resumed = Path.Combine(folder, "resumed.bin");
            string imageCache = Directory.CreateDirectory(Path.Combine(folder, "image-cache")).FullName;
            string pngs = Path.Combine(folder, "pngs");
            int lastStep = 0;
            for (int kill = 0; kill < 8; kill++)
            {
                int target = Math.Min(29, lastStep + random.Next(1, 5));
                int delay = random.Next(0, 40); // lands anywhere in the next step, checkpoint write included
                // The killed runs take turns: images in memory, read from a temporary file (Fit's cache for large
                // datasets), and decoded again from PNG files for every batch (ImageCache None).
                var steps = Run(checkpoints, resumed, target, delay, (kill % 3) switch { 1 => imageCache, 2 => "--files " + pngs, _ => null });
                steps.Should().NotBeEmpty();
                steps[0].Should().BeInRange(1, lastStep + 2, "a resumed run starts right after the last checkpoint it finds");
                File.Exists(resumed).Should().BeFalse("the run was killed before it finished");
                kills.Add($"killed {delay} ms after step {steps[^1]} (this run started at step {steps[0]})");
                lastStep = steps[^1];
            }
            var final = Run(checkpoints, resumed, imageCache: imageCache);
            TestContext.Out.WriteLine(string.Join(Environment.NewLine, kills) + $"{Environment.NewLine}final run: steps {final[0]}–{final[^1]}");

            final[^1].Should().Be(30);
            File.ReadAllBytes(resumed).Should().Equal(File.ReadAllBytes(reference), "resuming after kill -9 must reproduce the uninterrupted run exactly");
            Directory.GetFiles(imageCache).Should().BeEmpty("the image cache file never outlives its process, killed or not");
            Directory.GetFiles(checkpoints).Select(Path.GetFileName).Should().BeSubsetOf(new[] { "checkpoint.ckpt", "checkpoint.previous.ckpt" },
                "no half-written temporary file may survive a kill and a completed resume");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
