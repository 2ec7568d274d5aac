using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.MLNet;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// ONNX Runtime alone on ready pixels in variants that could beat its defaults at batch 32 — the same pictures in runs
/// of other sizes, or a session option set — against the default session, alternating:
/// <c>ort-variants [IMAGES] [ROUNDS] [VARIANT...]</c>, a variant being a run size (e.g. 8) or one of the option names
/// below. The first variant is always the default session on runs of 32.
/// </summary>
internal static class SessionVariantTiming
{
    private static readonly Dictionary<string, (string Key, string Value)> Options = new()
    {
        ["denormals-as-zero"] = ("session.set_denormal_as_zero", "1"),
        ["dynamic-blocks"] = ("session.dynamic_block_base", "4"),
        ["no-spinning"] = ("session.intra_op.allow_spinning", "0"),
        ["worker-on-cpu-1"] = ("session.intra_op_thread_affinities", "1"),
        ["worker-on-cpu-2"] = ("session.intra_op_thread_affinities", "2"),
    };

    public static int Run(string[] args)
    {
        int images = args.Length > 0 ? int.Parse(args[0]) : 256, rounds = args.Length > 1 ? int.Parse(args[1]) : 5;
        string[] variants = args.Length > 2 ? args[2..] : new[] { "16", "8", "4", "1" };
        foreach (string variant in variants)
        {
            if (!int.TryParse(variant, out int size) ? !Options.ContainsKey(variant) : size < 1)
            {
                Console.Error.WriteLine($"Unknown variant '{variant}': give a run size ≥ 1 or one of {string.Join(", ", Options.Keys)}.");
                return 2;
            }
        }
        var mlContext = new MLContext(1);
        var data = SpatialScenes.GenerateDataView(mlContext, images, new SpatialScenesOptions { ImageSize = 224, Seed = 7 });
        using var backbone = SpatialBackbone.ImageNetResNet18();
        string folder = Directory.CreateTempSubdirectory("ort-variants-").FullName;
        var sessions = new List<FeaturizationThroughput.OnnxRuntimeBatches>();
        try
        {
            string onnxPath = Path.Combine(folder, "imagenet-resnet18.onnx");
            backbone.ExportOnnx(onnxPath, "Pixels", "Features");
            var names = new[] { "default, runs of 32" }.Concat(variants).ToList();
            foreach (string name in names)
            {
                int size = int.TryParse(name, out int s) ? s : 32;
                Action<SessionOptions>? configure = Options.TryGetValue(name, out var option) ? o => o.AddSessionConfigEntry(option.Key, option.Value) : null;
                sessions.Add(new FeaturizationThroughput.OnnxRuntimeBatches(mlContext, data, onnxPath, size, Environment.ProcessorCount, configure));
            }
            foreach (var session in sessions) session.Pass(); // warm-up
            var seconds = Statistics.AlternatingSeconds(sessions.Count, i => sessions[i].Pass(), rounds);
            for (int i = 0; i < names.Count; i++)
            {
                var speedups = seconds[0].Zip(seconds[i], (a, b) => a / b).ToList();
                string label = int.TryParse(names[i], out _) ? $"runs of {names[i]}" : names[i];
                Console.WriteLine($"{label,-22} {images / Statistics.Median(seconds[i]),6:F1} img/s   vs default: median {Statistics.Median(speedups):F3}× (range {speedups.Min():F3}–{speedups.Max():F3}×)");
            }
            return 0;
        }
        finally
        {
            foreach (var session in sessions) session.Dispose();
            Directory.Delete(folder, recursive: true);
        }
    }
}
