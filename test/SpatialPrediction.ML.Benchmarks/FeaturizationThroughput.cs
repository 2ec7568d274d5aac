using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Transforms.Onnx;
using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.Benchmarks;

/// <summary>
/// Featurisation at 224 px with the ImageNet ResNet-18 of <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>, the same
/// weights everywhere: our <c>SpatialFeaturize</c> (imported weights) at batch 1 and 32, ML.NET's
/// <c>DnnFeaturizeImage</c>, <c>ApplyOnnxModel</c> on our ONNX export of it with ONNX Runtime's intra-op threads at
/// the core count and at 1, and ONNX Runtime called directly on a batch of 32. Every pipeline starts from the same
/// in-memory images; each rate is the median of three passes after a warm-up pass.
/// </summary>
internal static class FeaturizationThroughput
{
    public sealed record Result(List<(string Name, int Batch, double ImagesPerSecond)> Rates, double MaxAbsDiffVsDnn, double MaxAbsDiffVsOnnx);

    public static Result Run(int images, string workFolder)
    {
        int cores = Environment.ProcessorCount;
        var mlContext = new MLContext(1);
        var data = SpatialScenes.GenerateDataView(mlContext, images, new SpatialScenesOptions { ImageSize = 224, Seed = 7 });
        using var backbone = SpatialBackbone.ImageNetResNet18();
        string onnxPath = Path.Combine(workFolder, "imagenet-resnet18.onnx");
        backbone.ExportOnnx(onnxPath, "Pixels", "Features");
        var rates = new List<(string, int, double)>();

        List<float[]> Measure(string name, int batch, IEstimator<ITransformer> estimator)
        {
            var transformer = estimator.Fit(data);
            List<float[]> Pass() => transformer.Transform(data).GetColumn<float[]>("Features").ToList();
            var features = Pass();
            rates.Add((name, batch, images / Statistics.Median(Enumerable.Range(0, 3).Select(_ => Seconds(() => Pass())))));
            Console.WriteLine($"  {name}, batch {batch}: {rates[^1].Item3:F1} img/s");
            return features;
        }

        var ours = Measure("SpatialFeaturize (ours)", 32, mlContext.Transforms.SpatialFeaturize(backbone, batchSize: 32));
        Measure("SpatialFeaturize (ours)", 1, mlContext.Transforms.SpatialFeaturize(backbone, batchSize: 1));
        var dnn = Measure("DnnFeaturizeImage", 1, mlContext.Transforms.ExtractPixels("Pixels", "Image")
            .Append(mlContext.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(mlContext, m.OutputColumn, m.InputColumn), "Pixels")));
        List<float[]>? onnx = null;
        foreach (int threads in new[] { cores, 1 }.Distinct())
        {
            onnx = Measure($"ApplyOnnxModel, {threads} intra-op thread{(threads > 1 ? "s" : "")}", 1, mlContext.Transforms.ExtractPixels("Pixels", "Image")
                .Append(mlContext.Transforms.ApplyOnnxModel(new OnnxOptions
                {
                    ModelFile = onnxPath, InputColumns = new[] { "Pixels" }, OutputColumns = new[] { "Features" },
                    IntraOpNumThreads = threads, InterOpNumThreads = 1,
                })));
        }
        rates.Add(("ONNX Runtime session (pixels ready)", 32, OnnxRuntimeBatch(mlContext, data, onnxPath, 32, cores)));
        Console.WriteLine($"  ONNX Runtime session, batch 32: {rates[^1].Item3:F1} img/s");
        return new Result(rates, MaxAbsDiff(ours, dnn), MaxAbsDiff(ours, onnx!));
    }

    /// <summary>ONNX Runtime alone on batches of pre-extracted pixels: the most ORT can do, with no ML.NET row overhead.</summary>
    private static double OnnxRuntimeBatch(MLContext mlContext, IDataView data, string onnxPath, int batch, int threads)
    {
        var pixels = mlContext.Transforms.ExtractPixels("Pixels", "Image").Fit(data).Transform(data).GetColumn<float[]>("Pixels").ToList();
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(onnxPath, options);
        int length = pixels[0].Length, side = (int)Math.Sqrt(length / 3);
        var inputs = new List<DenseTensor<float>>();
        for (int start = 0; start < pixels.Count; start += batch)
        {
            int count = Math.Min(batch, pixels.Count - start);
            var values = new float[count * length];
            for (int i = 0; i < count; i++) pixels[start + i].CopyTo(values, i * length);
            inputs.Add(new DenseTensor<float>(values, new[] { count, 3, side, side }));
        }
        void Pass()
        {
            foreach (var input in inputs)
                using (session.Run(new[] { NamedOnnxValue.CreateFromTensor("Pixels", input) })) { }
        }
        Pass();
        return pixels.Count / Statistics.Median(Enumerable.Range(0, 3).Select(_ => Seconds(Pass)));
    }

    private static double Seconds(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    public static double MaxAbsDiff(IReadOnlyList<float[]> a, IReadOnlyList<float[]> b)
        => a.Zip(b, (x, y) => x.Zip(y, (p, q) => (double)Math.Abs(p - q)).Max()).Max();
}
