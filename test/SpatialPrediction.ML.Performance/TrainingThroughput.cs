using System.Diagnostics;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Training;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// Images per second of our training engine as users run it (<see cref="SpatialPretrainer.Train"/>: batch assembly,
/// views, forward, backward, clipping, AdamW, teacher EMA), from the time between consecutive progress reports:
/// the median step after <c>warmup</c> steps.
/// </summary>
internal static class TrainingThroughput
{
    public static double ImagesPerSecond(TrainingWorkload workload, int steps, int warmup, ConvolutionLayout layout = ConvolutionLayout.Auto, int? prefetch = null,
        Action<string>? log = null)
    {
        const int batchesPerEpoch = 4;
        using var scope = NewDisposeScope();
        manual_seed(1);
        var images = randint(0, 256, new long[] { workload.BatchSize * batchesPerEpoch, 3, workload.ImageSize, workload.ImageSize }, dtype: ScalarType.Byte);
        var clock = new StepClock();
        var settings = new PretrainingSettings
        {
            Framework = workload.Framework,
            SpatialPredictionEnabled = workload.SpatialPrediction,
            Backbone = BackboneKind.ResNet18,
            ImageSize = workload.ImageSize,
            BatchSize = workload.BatchSize,
            Epochs = (steps + warmup + batchesPerEpoch - 1) / batchesPerEpoch,
            ValidationFraction = 0,
            Progress = clock,
            ConvolutionLayout = layout,
            PrefetchBatches = prefetch,
            TrainingPrecision = workload.BFloat16 ? ComputePrecision.BFloat16 : ComputePrecision.Float32,
            Log = log,
        };
        var result = SpatialPretrainer.Train(images, settings, CPU);
        result.Backbone.Dispose();
        var durations = clock.Durations().Skip(warmup).ToList();
        return workload.BatchSize / Statistics.Median(durations);
    }

    /// <summary>Time stamps of progress reports, which the engine sends synchronously at the end of every step.</summary>
    private sealed class StepClock : IProgress<PretrainingProgress>
    {
        private readonly List<long> stamps = new() { Stopwatch.GetTimestamp() };

        public void Report(PretrainingProgress value) => stamps.Add(Stopwatch.GetTimestamp());

        public IEnumerable<double> Durations()
        {
            for (int i = 1; i < stamps.Count; i++) yield return Stopwatch.GetElapsedTime(stamps[i - 1], stamps[i]).TotalSeconds;
        }
    }
}
