using System.Runtime.InteropServices;
using SpatialPrediction.ML.Objectives;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// The whole-workload report: measures every area in one process, side by side with its peers, and prints one
/// Markdown table (also written to <c>--out</c>) with the machine it ran on.
/// </summary>
internal static class PerformanceReport
{
    private static readonly string[] Areas = { "ceiling", "training", "featurization", "pipeline", "memory" };

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        string? Value(string option) => Array.IndexOf(args, option) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        string? output = Value("--out");
        int rounds = int.Parse(Value("--rounds") ?? (quick ? "1" : "2"));
        var optionValues = new[] { "--out", "--rounds" }.Select(o => Array.IndexOf(args, o) + 1).Where(i => i > 0).ToHashSet();
        var areas = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && !optionValues.Contains(i)).ToList();
        var unknown = areas.Except(Areas).ToList();
        if (unknown.Count > 0)
        {
            Console.Error.WriteLine($"Unknown area(s) {string.Join(", ", unknown)}; choose from {string.Join(", ", Areas)}.");
            return 2;
        }
        if (areas.Count == 0) areas.AddRange(Areas);

        int cores = Environment.ProcessorCount, threads = TorchSharp.torch.get_num_threads();
        var table = new BenchmarkTable();
        string machine = $"{cores} cores ({SpatialPrediction.ML.Machine.CpuDescription.Current?.ToString() ?? "unknown CPU"}), {RuntimeInformation.OSDescription}, .NET {Environment.Version}, " +
                         $"TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version} CPU with {threads} intra-op threads";
        Console.WriteLine($"Machine: {machine}{(quick ? " — quick run" : "")}");
        var notes = new List<string>();

        // Each in a process of its own, so the drift is relative to what that run itself holds.
        if (areas.Contains("memory"))
        {
            foreach (var result in new[] { MemoryDrift.InOwnProcess("featurization", quick ? 2000 : 10000), MemoryDrift.InOwnProcess("training", quick ? 200 : 1000) })
                table.Add(new BenchmarkRow("memory", $"RSS drift once settled, {result.Run}", result.SettledDriftPercent, "%", Target: BenchmarkTarget.AtMost(5),
                    Note: $"the second half's trend over the span from 10 % to the end; the trend from 10 % itself {result.DriftPercent:F2} %; samples {result.WarmMegabytes:F0} MB at 10 %, {string.Join(" / ", result.Quartiles.Select(q => q.ToString("F0")))} MB " +
                          $"at 25/50/75/100 %; live TorchSharp tensors {result.TensorsAtWarm} → {result.TensorsAtEnd}"));
        }


        double ceiling = 0, hardwarePeak = 0, bfloat16Peak = 0, bfloat16Ceiling = 0;
        if (areas.Contains("ceiling") || areas.Contains("training"))
        {
            ceiling = MatmulCeiling.GigaflopsPerSecond();
            table.Add(new BenchmarkRow("ceiling", "float32 matmul 2048², libtorch", ceiling, "GFLOP/s"));
            if (HardwareCeiling.Estimate() is { } peak)
            {
                table.Add(new BenchmarkRow("ceiling", "float32 peak from the hardware", peak.GigaflopsPerSecond, "GFLOP/s", Note: peak.How));
                hardwarePeak = peak.GigaflopsPerSecond;
            }
            if (HardwareCeiling.EstimateBFloat16() is { } bf16Peak)
            {
                table.Add(new BenchmarkRow("ceiling", "bfloat16 peak from the hardware", bf16Peak.GigaflopsPerSecond, "GFLOP/s", Note: bf16Peak.How));
                bfloat16Peak = bf16Peak.GigaflopsPerSecond;
            }
            // Only where the CPU has bfloat16 kernels: emulated, the product says nothing but how slow emulation is.
            if (SpatialPrediction.ML.Machine.CpuDescription.Current?.Flags is { } flags && (flags.Contains("avx512_bf16") || flags.Contains("amx_bf16")))
            {
                bfloat16Ceiling = MatmulCeiling.GigaflopsPerSecond(dtype: TorchSharp.torch.ScalarType.BFloat16);
                table.Add(new BenchmarkRow("ceiling", "bfloat16 matmul 2048², libtorch", bfloat16Ceiling, "GFLOP/s",
                    Note: FormattableString.Invariant($"{bfloat16Ceiling / ceiling:F2} × the float32 matmul")));
            }
        }

        var consumption = new Dictionary<string, double>();
        if (areas.Contains("training"))
        {
            int steps = quick ? 3 : 8, warmup = quick ? 1 : 2;
            var workloads = new[]
            {
                new TrainingWorkload(SslFramework.SimClr, false, 64, 64),
                new TrainingWorkload(SslFramework.SimClr, true, 64, 64),
                new TrainingWorkload(SslFramework.Dino, false, 64, 64),
                new TrainingWorkload(SslFramework.Dino, true, 64, 64),
                new TrainingWorkload(SslFramework.SimClr, false, 96, 64),
                new TrainingWorkload(SslFramework.SimClr, false, 64, 64, BFloat16: true),
                new TrainingWorkload(SslFramework.SimClr, true, 64, 64, BFloat16: true),
            };
            // Emulated bfloat16 takes minutes a step; the rows would say nothing about the bfloat16 path, only about the CPU.
            if (SpatialPrediction.ML.Machine.BFloat16Kernels.MissingOn(TorchSharp.torch.CPU) is { } emulated)
            {
                notes.Add($"bfloat16 training rows not measured: {emulated}.");
                workloads = workloads.Where(w => !w.BFloat16).ToArray();
            }
            string? peerBlas = null;
            double PeakFor(TrainingWorkload w) => w.BFloat16 && bfloat16Peak > 0 ? bfloat16Peak : hardwarePeak;
            foreach (var workload in workloads)
            {
                // Ours and the peer alternate, round after round, so a slow spell of a shared machine hits both alike.
                var oursRounds = new List<double>();
                var peerRounds = new List<PeerResult>();
                var sameHeapRounds = new List<double>();
                var nchwRounds = new List<double>();
                var channelsLastRounds = new List<double>();
                bool alsoNchw = workload == workloads[0]; // the step before the channels-last change, for comparison
                bool alsoPrefetch = workload == workloads[1]; // views inline or one batch ahead: the loader's candidates
                var inlineRounds = new List<double>();
                var aheadRounds = new List<double>();
                string? whyNot = null;
                string layoutChoice = "";
                var loaderChoices = new List<string>();
                void Logged(string line)
                {
                    if (line.StartsWith("Convolution layout: ", StringComparison.Ordinal)) layoutChoice = line["Convolution layout: ".Length..].Split("; the choice is kept")[0].TrimEnd('.');
                    if (line.StartsWith("Batch loader: ", StringComparison.Ordinal)) loaderChoices.Add(line.Contains("ahead on a loader thread", StringComparison.Ordinal) ? "ahead" : "inline");
                }
                for (int round = 0; round < rounds; round++)
                {
                    oursRounds.Add(TrainingThroughput.ImagesPerSecond(workload, steps, warmup, log: Logged));
                    if (PyTorchPeer.Run(workload, steps, warmup, threads, out whyNot) is { } result) peerRounds.Add(result);
                    if (PyTorchPeer.Run(workload, steps, warmup, threads, out _, sameHeap: true) is { } tuned) sameHeapRounds.Add(tuned.ImagesPerSecond);
                    if (alsoPrefetch)
                    {
                        inlineRounds.Add(TrainingThroughput.ImagesPerSecond(workload, steps, warmup, prefetch: 0));
                        aheadRounds.Add(TrainingThroughput.ImagesPerSecond(workload, steps, warmup, prefetch: 1));
                    }
                    if (!alsoNchw) continue;
                    nchwRounds.Add(TrainingThroughput.ImagesPerSecond(workload, steps, warmup, Backbones.ConvolutionLayout.ChannelsFirst));
                    channelsLastRounds.Add(TrainingThroughput.ImagesPerSecond(workload, steps, warmup, Backbones.ConvolutionLayout.ChannelsLast));
                }
                if (alsoNchw)
                {
                    string choice = layoutChoice;
                    table.Add(new BenchmarkRow("training", $"ResNet-18 {workload.Name}, {workload.ImageSize} px, batch {workload.BatchSize}, channels-first (NCHW)",
                        Statistics.Median(nchwRounds), "img/s", Note: "a layout candidate, same rounds"));
                    table.Add(new BenchmarkRow("training", $"ResNet-18 {workload.Name}, {workload.ImageSize} px, batch {workload.BatchSize}, channels-last",
                        Statistics.Median(channelsLastRounds), "img/s", Note: $"a layout candidate, same rounds; the calibration chose {choice}"));
                }
                if (alsoPrefetch)
                {
                    table.Add(new BenchmarkRow("training", $"ResNet-18 {workload.Name}, {workload.ImageSize} px, batch {workload.BatchSize}, views on the training thread",
                        Statistics.Median(inlineRounds), "img/s", Note: "a loader candidate (PrefetchBatches 0), same rounds"));
                    // Ahead must pay where it is the fixed default; on fewer cores the default is the loader's own timing, whose picks the note lists.
                    bool aheadByDefault = cores >= 4;
                    string picks = loaderChoices.Count == 0 ? "" : $" (it picked {string.Join(", ", loaderChoices.GroupBy(c => c).Select(g => $"{g.Key} in {g.Count()} of {loaderChoices.Count} runs"))})";
                    table.Add(new BenchmarkRow("training", $"ResNet-18 {workload.Name}, {workload.ImageSize} px, batch {workload.BatchSize}, views one batch ahead",
                        Statistics.Median(aheadRounds), "img/s", "views inline", Statistics.Median(inlineRounds), aheadByDefault ? BenchmarkTarget.RatioAtLeast(1.0) : null,
                        $"a loader candidate (PrefetchBatches 1), same rounds; the default on {cores} cores is {(aheadByDefault ? "2" : $"chosen by timing the first batches' views against their steps{picks}")}"));
                }
                double ours = Statistics.Median(oursRounds);
                var peer = peerRounds.Count == 0 ? null : peerRounds[0] with { ImagesPerSecond = Statistics.Median(peerRounds.Select(p => p.ImagesPerSecond)) };
                if (peer is not null) peerBlas = $"PyTorch {peer.TorchVersion}, {peer.Threads} threads, BLAS: {peer.Blas}";
                bool againstBFloat16 = workload.BFloat16 && bfloat16Ceiling > 0;
                double share = 100 * ours * workload.FlopsPerImage() / 1e9 / (againstBFloat16 ? bfloat16Ceiling : ceiling);
                table.Add(new BenchmarkRow("training", $"ResNet-18 {workload.Name}, {workload.ImageSize} px, batch {workload.BatchSize}", ours, "img/s",
                    "PyTorch", peer?.ImagesPerSecond, BenchmarkTarget.RatioAtLeast(1.2),
                    $"layout {(layoutChoice.Length > 0 ? layoutChoice.Split(" (")[0] : "fixed")}; {share:F0} % of the {(againstBFloat16 ? "bfloat16 " : "")}matmul figure{(PeakFor(workload) > 0 ? $", {100 * ours * workload.FlopsPerImage() / 1e9 / PeakFor(workload):F0} % of the {(workload.BFloat16 ? "bfloat16" : "hardware")} peak" : "")} ({workload.FlopsPerImage() / 1e9:F2} GFLOP/img){(whyNot is null ? "" : $"; peer: {whyNot}")}"));
                if (sameHeapRounds.Count > 0)
                    table.Add(new BenchmarkRow("training", $"ResNet-18 {workload.Name}, {workload.ImageSize} px, batch {workload.BatchSize}: PyTorch with our heap settings", ours, "img/s",
                        "PyTorch, same malloc settings", Statistics.Median(sameHeapRounds), Note: "the peer's glibc malloc set as NativeHeapReuse sets ours (MALLOC_MMAP_THRESHOLD_ etc.), same rounds; not what a PyTorch user gets by default"));
                consumption[$"{workload.Name} {workload.ImageSize}"] = ours;
                string float32Name = $"{(workload with { BFloat16 = false }).Name} {workload.ImageSize}";
                if (workload.BFloat16 && consumption.TryGetValue(float32Name, out double float32))
                    table.Add(new BenchmarkRow("training", $"ResNet-18 {workload.Name}, {workload.ImageSize} px: bfloat16 step vs our float32 step", ours, "img/s",
                        "ours, float32", float32, BenchmarkTarget.RatioAtLeast(1.5), "bfloat16 compute on float32 master weights (ComputePrecision.BFloat16)"));
            }
            if (peerBlas is not null) notes.Add($"Training peer: {peerBlas}; median step of {steps} after {warmup} warm-up, " +
                                                $"{rounds} alternating round(s) each (median of rounds), views made on the training thread in both.");
            foreach (var host in workloads.Where(w => !w.SpatialPrediction && w.ImageSize == 64))
            {
                var withSp = host with { SpatialPrediction = true };
                if (!consumption.TryGetValue($"{host.Name} 64", out double hostRate) || !consumption.TryGetValue($"{withSp.Name} 64", out double spRate)) continue;
                table.Add(new BenchmarkRow("training", $"SP overhead: {withSp.Name} step time vs {host.Name}, 64 px, batch 64", 100 * (hostRate / spRate - 1), "%",
                    Target: BenchmarkTarget.AtMost(25),
                    Note: $"SP adds two 32 px views per image: +{100 * (withSp.FlopsPerImage() / host.FlopsPerImage() - 1):F0} % counted FLOPs"));
            }
        }

        if (areas.Contains("featurization"))
        {
            string folder = Directory.CreateTempSubdirectory("sp-bench-").FullName;
            try
            {
                var result = FeaturizationThroughput.Run(quick ? 32 : 256, quick ? 1 : 2 * rounds, folder);
                double Rate(string name, int batch) => result.Rates.First(r => r.Name == name && r.Batch == batch).ImagesPerSecond;
                double dnn = Rate("DnnFeaturizeImage", 1);
                var ort = result.Rates.Where(r => !r.Name.StartsWith("SpatialFeaturize", StringComparison.Ordinal)
                    && (r.Name.Contains("Onnx", StringComparison.Ordinal) || r.Name.Contains("ONNX", StringComparison.Ordinal))).ToList();
                var bestOrt = ort.MaxBy(r => r.ImagesPerSecond)!;
                foreach (int batch in new[] { 32, 1 })
                {
                    double ours = Rate("SpatialFeaturize (ours, engine by calibration)", batch);
                    table.Add(new BenchmarkRow("featurization", $"ImageNet ResNet-18 224 px, SpatialFeaturize batch {batch}", ours, "img/s",
                        "DnnFeaturizeImage", dnn, BenchmarkTarget.RatioAtLeast(batch == 1 ? 1.2 : 1.4), batch == 32 ? $"max abs diff vs DnnFeaturizeImage {result.MaxAbsDiffVsDnn:E1}" : ""));
                    // Batch 32 against the best ONNX Runtime row of any batch (the bar); batch 1 against the best row that
                    // also featurises one row at a time, for information (a batch-32 session is no peer for it).
                    var peerOrt = batch == 32 ? bestOrt : ort.Where(r => r.Batch == 1).MaxBy(r => r.ImagesPerSecond)!;
                    table.Add(new BenchmarkRow("featurization", $"ImageNet ResNet-18 224 px, SpatialFeaturize batch {batch}", ours, "img/s",
                        $"best ONNX Runtime{(batch == 1 ? " at batch 1" : "")}: {peerOrt.Name}{(peerOrt.Batch > 1 ? $", batch {peerOrt.Batch}" : "")}", peerOrt.ImagesPerSecond,
                        batch == 32 ? BenchmarkTarget.RatioAtLeast(1.0) : null,
                        batch == 32 ? $"max abs diff vs ApplyOnnxModel {result.MaxAbsDiffVsOnnx:E1}" : "like for like, one row at a time"));
                }
                foreach (var rate in result.Rates.Where(r => r.Name.StartsWith("SpatialFeaturize,", StringComparison.Ordinal)))
                    table.Add(new BenchmarkRow("featurization", $"{rate.Name}, batch {rate.Batch}", rate.ImagesPerSecond, "img/s",
                        Note: rate.Name.Contains("unoptimised") ? $"the path before the optimisations; max abs diff to ours {result.MaxAbsDiffVsUnoptimised:E1}" : ""));
                notes.AddRange(result.EngineChoices.Select(c => $"featurisation engine, batch {c.Key}: {c.Value}"));
                foreach (var rate in ort.Append(result.Rates.First(r => r.Name == "DnnFeaturizeImage")))
                    table.Add(new BenchmarkRow("featurization", $"peer: {rate.Name}, batch {rate.Batch}", rate.ImagesPerSecond, "img/s"));
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }

        if (areas.Contains("pipeline"))
        {
            foreach (int size in new[] { 64, 96, 224 })
            {
                var result = DataPipelineThroughput.Run(size, quick ? 32 : 64);
                table.Add(new BenchmarkRow("data pipeline", $"decode 400×320 JPEG + shrink to a {2 * size} px shorter side, 1 core", result.DecodePerCore, "img/s",
                    Note: "once per image, when the dataset is loaded"));
                string consumer = size == 64 && consumption.TryGetValue("SimCLR + SP 64", out double used) ? $"SimCLR + SP {size}" : "";
                table.Add(new BenchmarkRow("data pipeline", $"views SimCLR + SP at {size} px cut from those pictures, 1 core", result.ViewsPerCore, "img/s",
                    consumer == "" ? null : "training consumes", consumer == "" ? null : consumption[consumer],
                    consumer == "" ? null : BenchmarkTarget.RatioAtLeast(1.5),
                    "every image, every step, on the loader thread's one core; target: 1.5× what training consumes"));
            }
        }

        table.Add(new BenchmarkRow("memory", "peak RSS of this whole benchmark process", ProcessMemory.PeakResidentMegabytes(), "MB"));
        string report = $"Machine: {machine}\n\n{table.ToMarkdown()}\n{string.Join("\n", notes.Select(n => $"- {n}"))}\n";
        Console.WriteLine();
        Console.WriteLine(report);
        if (output is not null) File.WriteAllText(output, report);
        return 0;
    }
}
