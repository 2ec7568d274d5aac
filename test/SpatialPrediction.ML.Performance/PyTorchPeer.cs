using System.Diagnostics;
using System.Text.Json;
using SpatialPrediction.ML.Objectives;

namespace SpatialPrediction.ML.Performance;

/// <summary>The result of one run of <c>peers/pytorch_peer.py</c>.</summary>
internal sealed record PeerResult(double ImagesPerSecond, string TorchVersion, int Threads, string Blas);

/// <summary>
/// Runs the PyTorch peer script with Debian's python3-torch (<c>/usr/bin/python3</c>) on the same workload and thread
/// count, OpenMP and OpenBLAS threads pinned to it too. Returns null with a reason when the peer cannot run here.
/// With <c>sameHeap</c> the peer's glibc malloc gets the settings our engine holds while it trains
/// (<c>NativeHeapReuse</c>), through glibc's environment variables, so the allocator's share of the gap can be told apart.
/// </summary>
internal static class PyTorchPeer
{
    public const string Python = "/usr/bin/python3";

    public static PeerResult? Run(TrainingWorkload workload, int steps, int warmup, int threads, out string? whyNot, bool sameHeap = false)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "peers", "pytorch_peer.py");
        if (!File.Exists(Python)) { whyNot = $"{Python} not found"; return null; }
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     script, "--framework", workload.Framework == SslFramework.Dino ? "dino" : "simclr", "--size", $"{workload.ImageSize}",
                     "--batch", $"{workload.BatchSize}", "--steps", $"{steps}", "--warmup", $"{warmup}", "--threads", $"{threads}",
                 })
            start.ArgumentList.Add(argument);
        if (workload.SpatialPrediction) start.ArgumentList.Add("--sp");
        if (workload.BFloat16) start.ArgumentList.Add("--bf16");
        foreach (var variable in new[] { "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS" }) start.Environment[variable] = $"{threads}";
        if (sameHeap)
        {
            start.Environment["MALLOC_MMAP_THRESHOLD_"] = $"{1 << 30}";
            start.Environment["MALLOC_TRIM_THRESHOLD_"] = $"{int.MaxValue}";
            start.Environment["MALLOC_TOP_PAD_"] = $"{256 << 20}";
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            string error = stderr.Result.Trim();
            whyNot = error.Contains("No module named 'torch") || error.Contains("No module named 'torchvision")
                ? "python3-torch/python3-torchvision not installed (apt-get install python3-torch python3-torchvision)"
                : $"peer failed (exit {process.ExitCode}): {error.Split('\n').LastOrDefault()}";
            return null;
        }
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n').Last());
        var root = json.RootElement;
        var blas = root.GetProperty("blas").EnumerateArray().Select(e => Path.GetFileName(e.GetString()!)).ToList();
        whyNot = null;
        return new PeerResult(root.GetProperty("images_per_s").GetDouble(), root.GetProperty("torch").GetString()!,
            root.GetProperty("threads").GetInt32(), blas.Count == 0 ? "none mapped" : string.Join(" + ", blas));
    }
}
