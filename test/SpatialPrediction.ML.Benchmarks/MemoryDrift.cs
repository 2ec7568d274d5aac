using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Training;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Benchmarks;

/// <summary>
/// Resident memory over long runs: drift is the change from the first sample after warm-up (10 % of the run) to the
/// end, relative to that sample. A leak of native tensors shows here long before it shows in a crash.
/// </summary>
internal static class MemoryDrift
{
    public sealed record Result(string Run, double WarmMegabytes, double FinalMegabytes, double PeakMegabytes)
    {
        public double DriftPercent => 100 * (FinalMegabytes - WarmMegabytes) / WarmMegabytes;
    }

    /// <summary>Featurises <paramref name="totalImages"/> images (1,000 distinct 64 px scenes, repeated) with ResNet-18 through ML.NET.</summary>
    public static Result Featurization(int totalImages)
    {
        var mlContext = new MLContext(1);
        int distinct = Math.Min(1000, totalImages);
        var data = SpatialScenes.GenerateDataView(mlContext, distinct, new SpatialScenesOptions { ImageSize = 64, Seed = 5 });
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.ResNet18, ImageSize: 64));
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone, batchSize: 32).Fit(data);
        double warm = 0;
        int passes = Math.Max(1, totalImages / distinct);
        for (int pass = 0; pass < passes; pass++)
        {
            featurizer.Transform(data).GetColumn<float[]>("Features").Count();
            if (pass == Math.Max(0, passes / 10 - 1) || passes == 1) warm = ProcessMemory.ResidentMegabytes();
        }
        GC.Collect();
        return new Result($"featurisation, {passes * distinct} images", warm, ProcessMemory.ResidentMegabytes(), ProcessMemory.PeakResidentMegabytes());
    }

    /// <summary>Trains SimCLR + SP for <paramref name="steps"/> steps (small ResNet, 32 px, batch 32), sampling memory at every step.</summary>
    public static Result Training(int steps)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var images = randint(0, 256, new long[] { 256, 3, 32, 32 }, dtype: ScalarType.Byte);
        var samples = new List<double>();
        var settings = new PretrainingSettings
        {
            Backbone = BackboneKind.SmallResNet, ImageSize = 32, BatchSize = 32, ValidationFraction = 0,
            Epochs = (steps + 7) / 8,
            // SP on 32 px images: 16 px local views, the smallest the small ResNet takes.
            SpatialPrediction = new Spatial.SpatialPredictionSettings { LocalResolution = 16 },
            Progress = new Progress(samples),
        };
        SpatialPretrainer.Train(images, settings, CPU).Backbone.Dispose();
        return new Result($"training, {samples.Count} steps", samples[samples.Count / 10], samples[^1], ProcessMemory.PeakResidentMegabytes());
    }

    private sealed class Progress(List<double> samples) : IProgress<PretrainingProgress>
    {
        public void Report(PretrainingProgress value) => samples.Add(ProcessMemory.ResidentMegabytes());
    }
}
