using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.MLNet;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// Featurising at batch 32 by one engine against ONNX Runtime alone on pixels made beforehand, and the
/// time of reading the same rows without featurising them (what the engine's pipeline adds), in alternating rounds:
/// <c>featurize-batch [IMAGES] [ROUNDS] [ENGINE]</c> (default: the ONNX Runtime engine). Prints the per-round ratio, for before/after runs of the row-reading path.
/// </summary>
internal static class BatchFeaturizationTiming
{
    public static int Run(string[] args)
    {
        int images = args.Length > 0 ? int.Parse(args[0]) : 256, rounds = args.Length > 1 ? int.Parse(args[1]) : 5;
        var engine = args.Length > 2 ? Enum.Parse<FeaturizationEngine>(args[2]) : FeaturizationEngine.OnnxRuntime;
        using var workload = new FeaturizationWorkload(images);
        var (mlContext, data, backbone) = (workload.MLContext, workload.Data, workload.Backbone);
        using var session = new FeaturizationThroughput.OnnxRuntimeBatches(mlContext, data, workload.OnnxPath, 32, Environment.ProcessorCount);
        var ours = mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { BatchSize = 32, Engine = engine }).Fit(data);
        var input = ImageInput.For(data.Schema, "Image", 224, 0, 0, "featurize-batch");
        var passes = new (string Name, Action Pass)[]
        {
            ($"SpatialFeaturize, {engine} engine, batch 32", () => ours.Transform(data).GetColumn<float[]>("Features").ToList()),
            ("ONNX Runtime session (pixels ready), batch 32", () => session.Pass()),
            ("reading the rows only (ImageInput)", () =>
            {
                using var cursor = data.GetRowCursor(data.Schema);
                var read = input.Reader(cursor);
                var planes = new byte[input.PlanesLength];
                while (cursor.MoveNext()) read(planes);
            }),
            ("getting the rows' images only (the input view's part of reading)", () =>
            {
                using var cursor = data.GetRowCursor(data.Schema);
                var get = cursor.GetGetter<Microsoft.ML.Data.MLImage>(data.Schema["Image"]);
                Microsoft.ML.Data.MLImage image = null!;
                while (cursor.MoveNext()) get(ref image);
            }),
        };
        foreach (var (_, pass) in passes) pass(); // warm-up
        var seconds = Statistics.AlternatingSeconds(passes.Length, i => passes[i].Pass(), rounds);
        for (int round = 0; round < rounds; round++)
        {
            Console.WriteLine($"  round {round + 1}: engine/session {seconds[1][round] / seconds[0][round]:F3}×, reading {1000 * seconds[2][round] / images:F2} ms/img, of which the input view {1000 * seconds[3][round] / images:F2}");
        }
        for (int i = 0; i < passes.Length; i++)
            Console.WriteLine($"{passes[i].Name}: {images / Statistics.Median(seconds[i]):F1} img/s");
        if (ours.Session.InferenceLayoutChoice is { } layout) Console.WriteLine($"libtorch inference layout: {layout}");
        var ratios = seconds[0].Zip(seconds[1], (a, b) => b / a).ToList();
        Console.WriteLine($"engine / session: median {Statistics.Median(ratios):F3}× (range {ratios.Min():F3}–{ratios.Max():F3}×)");
        return 0;
    }
}
