using SpatialPrediction.ML.Machine;
using SpatialPrediction.ML.MLNet;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Transforms.Onnx;
using SpatialPrediction.ML.Backbones;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// Featurisation at 224 px with the ImageNet ResNet-18 of <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>, the same
/// weights everywhere: our <c>SpatialFeaturize</c> (imported weights) at batch 1 and 32, also with its optimisations
/// switched off; ML.NET's <c>DnnFeaturizeImage</c>; <c>ApplyOnnxModel</c> on our ONNX export of it with ONNX Runtime's
/// intra-op threads at the core count and at 1; and ONNX Runtime called directly on batches of 32. Every pipeline
/// starts from the same in-memory images. After a warm-up pass of each, the pipelines take turns for
/// <c>rounds</c> rounds (so a slow spell of a shared machine hits all alike); each rate is the median of its passes.
/// </summary>
internal static class FeaturizationThroughput
{
    public sealed record Rate(string Name, int Batch, double ImagesPerSecond);

    public sealed record Result(List<Rate> Rates, double MaxAbsDiffVsDnn, double MaxAbsDiffVsOnnx, double MaxAbsDiffVsUnoptimised,
        IReadOnlyDictionary<int, FeaturizationEngineCalibration.Choice> EngineChoices);

    /// <summary>One contender: a name, a batch size, how to run a pass (returning the features) and any switch it needs around it.</summary>
    private sealed record Contender(string Name, int Batch, Func<List<float[]>> Pass, Action? Before = null, Action? After = null)
    {
        public List<float[]> Run()
        {
            Before?.Invoke();
            try { return Pass(); }
            finally { After?.Invoke(); }
        }
    }

    public static Result Run(int images, int rounds, string workFolder)
    {
        int cores = Environment.ProcessorCount;
        using var workload = new FeaturizationWorkload(images, workFolder);
        var (mlContext, data, backbone, onnxPath) = (workload.MLContext, workload.Data, workload.Backbone, workload.OnnxPath);

        var calibrated = new List<SpatialFeaturizerTransformer>();
        Func<List<float[]>> Pipeline(IEstimator<ITransformer> estimator, Action<FeaturizationSession>? configure = null)
        {
            var transformer = estimator.Fit(data);
            if (transformer is SpatialFeaturizerTransformer ours)
            {
                configure?.Invoke(ours.Session);
                if (ours.Engine == FeaturizationEngine.Auto) calibrated.Add(ours);
            }
            return () => transformer.Transform(data).GetColumn<float[]>("Features").ToList();
        }
        // Each featuriser has its own session, so the switched-off ones are configured once, not around each pass.
        void Unoptimised(FeaturizationSession s) { s.InferenceLayout = ConvolutionLayout.ChannelsFirst; s.FoldBatchNormForInference = false; }
        void ChannelsLastOnly(FeaturizationSession s) { s.InferenceLayout = ConvolutionLayout.ChannelsLast; s.FoldBatchNormForInference = false; }

        IEstimator<ITransformer> Ours(int batch, FeaturizationEngine engine)
            => mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { BatchSize = batch, Engine = engine });
        var contenders = new List<Contender>
        {
            new("SpatialFeaturize (ours, engine by calibration)", 32, Pipeline(Ours(32, FeaturizationEngine.Auto))),
            new("SpatialFeaturize (ours, engine by calibration)", 1, Pipeline(Ours(1, FeaturizationEngine.Auto))),
            new("SpatialFeaturize, libtorch engine", 32, Pipeline(Ours(32, FeaturizationEngine.LibTorch))),
            new("SpatialFeaturize, libtorch engine", 1, Pipeline(Ours(1, FeaturizationEngine.LibTorch))),
            new("SpatialFeaturize, ONNX Runtime engine", 32, Pipeline(Ours(32, FeaturizationEngine.OnnxRuntime))),
            new("SpatialFeaturize, ONNX Runtime engine", 1, Pipeline(Ours(1, FeaturizationEngine.OnnxRuntime))),
            new("SpatialFeaturize, unoptimised (libtorch, NCHW, batch norm unfolded)", 32, Pipeline(Ours(32, FeaturizationEngine.LibTorch), Unoptimised)),
            new("SpatialFeaturize, channels-last only (libtorch, batch norm unfolded)", 32, Pipeline(Ours(32, FeaturizationEngine.LibTorch), ChannelsLastOnly)),
            new("DnnFeaturizeImage", 1, Pipeline(mlContext.Transforms.ExtractPixels("Pixels", "Image")
                .Append(mlContext.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(mlContext, m.OutputColumn, m.InputColumn), "Pixels")))),
        };
        foreach (int threads in new[] { cores, 1 }.Distinct())
        {
            contenders.Add(new($"ApplyOnnxModel, {threads} intra-op thread{(threads > 1 ? "s" : "")}", 1, Pipeline(mlContext.Transforms.ExtractPixels("Pixels", "Image")
                .Append(mlContext.Transforms.ApplyOnnxModel(new OnnxOptions
                {
                    ModelFile = onnxPath, InputColumns = new[] { "Pixels" }, OutputColumns = new[] { "Features" },
                    IntraOpNumThreads = threads, InterOpNumThreads = 1,
                })))));
        }
        using var session = new OnnxRuntimeBatches(mlContext, data, onnxPath, 32, cores);
        contenders.Add(new("ONNX Runtime session (pixels ready)", 32, session.Pass));

        var features = contenders.Select(c => c.Run()).ToList(); // warm-up, and the outputs compared below
        var seconds = Statistics.AlternatingSeconds(contenders.Count, i => contenders[i].Run(), rounds);
        var rates = contenders.Select((c, i) => new Rate(c.Name, c.Batch, images / Statistics.Median(seconds[i]))).ToList();
        foreach (var rate in rates) Console.WriteLine($"  {rate.Name}, batch {rate.Batch}: {rate.ImagesPerSecond:F1} img/s");
        var engineChoices = calibrated.SelectMany(t => t.Session.EngineChoices).GroupBy(c => c.Key).ToDictionary(g => g.Key, g => g.First().Value);
        foreach (var (batch, choice) in engineChoices.OrderBy(c => c.Key)) Console.WriteLine($"  engine calibration, batch {batch}: {choice}");
        int Index(string name) => contenders.FindIndex(c => c.Name.StartsWith(name, StringComparison.Ordinal));
        return new Result(rates, MaxAbsDiff(features[0], features[Index("DnnFeaturizeImage")]),
            MaxAbsDiff(features[0], features[Index("ApplyOnnxModel")]), MaxAbsDiff(features[0], features[Index("SpatialFeaturize, unoptimised")]),
            engineChoices);
    }

    /// <summary>ONNX Runtime alone on batches of pre-extracted pixels: the most ORT can do, with no ML.NET row overhead.</summary>
    internal sealed class OnnxRuntimeBatches : IDisposable
    {
        private readonly SessionOptions options;
        private readonly InferenceSession session;
        private readonly List<DenseTensor<float>> inputs = new();

        public OnnxRuntimeBatches(MLContext mlContext, IDataView data, string onnxPath, int batch, int threads)
            : this(ReadyPixels(mlContext, data), onnxPath, batch, threads)
        {
        }

        /// <summary>A session on <paramref name="pixels"/> made once by <see cref="ReadyPixels"/>, its options first passed to <paramref name="configure"/>.</summary>
        public OnnxRuntimeBatches(IReadOnlyList<float[]> pixels, string onnxPath, int batch, int threads, Action<SessionOptions>? configure = null)
        {
            options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            configure?.Invoke(options);
            session = new InferenceSession(onnxPath, options);
            int length = pixels[0].Length, side = (int)Math.Sqrt(length / 3);
            for (int start = 0; start < pixels.Count; start += batch)
            {
                int count = Math.Min(batch, pixels.Count - start);
                var values = new float[count * length];
                for (int i = 0; i < count; i++) pixels[start + i].CopyTo(values, i * length);
                inputs.Add(new DenseTensor<float>(values, new[] { count, 3, side, side }));
            }
        }

        /// <summary>Each row's image as the float CHW pixels an ONNX Runtime session reads.</summary>
        public static List<float[]> ReadyPixels(MLContext mlContext, IDataView data)
            => mlContext.Transforms.ExtractPixels("Pixels", "Image").Fit(data).Transform(data).GetColumn<float[]>("Pixels").ToList();

        public List<float[]> Pass()
        {
            var features = new List<float[]>();
            foreach (var input in inputs)
            {
                using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("Pixels", input) });
                var output = results[0].AsTensor<float>();
                int rows = output.Dimensions[0], width = (int)(output.Length / rows);
                var flat = output.ToArray();
                for (int r = 0; r < rows; r++) features.Add(flat.AsSpan(r * width, width).ToArray());
            }
            return features;
        }

        public void Dispose()
        {
            session.Dispose();
            options.Dispose();
        }
    }

    public static double MaxAbsDiff(IReadOnlyList<float[]> a, IReadOnlyList<float[]> b)
        => a.Zip(b, (x, y) => x.Zip(y, (p, q) => (double)Math.Abs(p - q)).Max()).Max();
}
