using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.Benchmarks;

/// <summary>
/// Featurisation throughput of a frozen backbone through the ML.NET transformer (cursor → features), per backbone,
/// input size and featurisation batch size. Each row: one warm-up pass, then the best of three timed passes.
/// </summary>
internal static class FeaturizationBenchmark
{
    public static void Run(int images)
    {
        var cases = new (BackboneKind Kind, int Size, int Count)[]
        {
            (BackboneKind.SmallResNet, 32, images),
            (BackboneKind.SmallResNet, 64, images),
            (BackboneKind.ResNet18, 224, Math.Max(16, images / 8)),
        };
        Console.WriteLine($"Featurisation throughput, {Environment.ProcessorCount} cores, TorchSharp CPU, {TorchSharp.torch.get_num_threads()} intra-op threads");
        Console.WriteLine("| backbone            | input | batch | images | images/s |");
        Console.WriteLine("|---------------------|-------|-------|--------|----------|");
        var mlContext = new MLContext(1);
        foreach (var (kind, size, count) in cases)
        {
            // Not cached: ML.NET's cache drops image columns. Building each MLImage from memory is part of every row alike.
            var data = SpatialScenes.GenerateDataView(mlContext, count, new SpatialScenesOptions { ImageSize = size });
            using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(kind, Width: 32, ImageSize: size));
            foreach (int batch in new[] { 1, 8, 16, 64 })
            {
                var featurizer = mlContext.Transforms.SpatialFeaturize(backbone, batchSize: batch).Fit(data);
                double best = 0;
                for (int pass = 0; pass < 4; pass++)
                {
                    var clock = Stopwatch.StartNew();
                    int rows = featurizer.Transform(data).GetColumn<float[]>("Features").Count();
                    double rate = rows / clock.Elapsed.TotalSeconds;
                    if (pass > 0) best = Math.Max(best, rate);
                }
                string name = kind == BackboneKind.SmallResNet ? "SmallResNet (w=32)" : kind.ToString();
                Console.WriteLine($"| {name,-19} | {size,5} | {batch,5} | {count,6} | {best,8:F0} |");
            }
        }
    }
}
