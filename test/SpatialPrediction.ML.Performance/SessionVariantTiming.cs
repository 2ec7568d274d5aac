using Microsoft.ML.OnnxRuntime;

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

    private sealed record Variant(string Label, int RunSize, Action<SessionOptions>? Configure);

    public static int Run(string[] args)
    {
        int images = args.Length > 0 ? int.Parse(args[0]) : 256, rounds = args.Length > 1 ? int.Parse(args[1]) : 5;
        var variants = new List<Variant> { new("default, runs of 32", 32, null) };
        foreach (string name in args.Length > 2 ? args[2..] : new[] { "16", "8", "4", "1" })
        {
            if (int.TryParse(name, out int size) && size >= 1) variants.Add(new($"runs of {size}", size, null));
            else if (Options.TryGetValue(name, out var option)) variants.Add(new(name, 32, o => o.AddSessionConfigEntry(option.Key, option.Value)));
            else
            {
                Console.Error.WriteLine($"Unknown variant '{name}': give a run size ≥ 1 or one of {string.Join(", ", Options.Keys)}.");
                return 2;
            }
        }
        using var workload = new FeaturizationWorkload(images);
        var pixels = FeaturizationThroughput.OnnxRuntimeBatches.ReadyPixels(workload.MLContext, workload.Data);
        var sessions = new List<FeaturizationThroughput.OnnxRuntimeBatches>();
        try
        {
            foreach (var variant in variants)
                sessions.Add(new(pixels, workload.OnnxPath, variant.RunSize, Environment.ProcessorCount, variant.Configure));
            foreach (var session in sessions) session.Pass(); // warm-up
            var seconds = Statistics.AlternatingSeconds(sessions.Count, i => sessions[i].Pass(), rounds);
            for (int i = 0; i < variants.Count; i++)
            {
                var speedups = seconds[0].Zip(seconds[i], (a, b) => a / b).ToList();
                Console.WriteLine($"{variants[i].Label,-22} {images / Statistics.Median(seconds[i]),6:F1} img/s   vs default: median {Statistics.Median(speedups):F3}× (range {speedups.Min():F3}–{speedups.Max():F3}×)");
            }
            return 0;
        }
        finally
        {
            foreach (var session in sessions) session.Dispose();
        }
    }
}
