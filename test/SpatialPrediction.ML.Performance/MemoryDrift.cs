using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Training;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// Resident memory sampled over long runs (every 100 featurised images, after every training step).
/// A leak of native tensors shows here long before it shows in a crash.
/// </summary>
internal static class MemoryDrift
{
    /// <summary>
    /// Drift is the least-squares trend of resident memory from 10 % of the run (after warm-up) to the end, as a
    /// percentage of the trend's value at 10 %: a leak grows steadily and shows as a positive trend, while the
    /// allocator's ups and downs (±10 % from sample to sample here) average out. How long the heap takes to settle
    /// differs between machines (a step within the first fifth on one, rising for ~2,000 training steps on another), and
    /// a settling heap rises from 10 % without leaking. So the gate is <see cref="SettledDriftPercent"/>: the trend
    /// of the second half alone, carried over the span from 10 % to the end, relative to its value at the middle. A
    /// steady leak reads the same in both; a heap that has settled by the middle reads flat. The quartile and decile
    /// samples are kept for the note.
    /// </summary>
    public sealed record Result(string Run, double DriftPercent, double WarmMegabytes, IReadOnlyList<double> Quartiles,
        long TensorsAtWarm = 0, long TensorsAtEnd = 0, IReadOnlyList<double>? Deciles = null, double SecondHalfDriftPercent = 0,
        double SettledDriftPercent = 0);

    /// <summary>
    /// Runs <see cref="Featurization"/> or <see cref="Training"/> in a process of its own, so that neither run's
    /// heap (glibc keeps freed memory while training, ONNX Runtime keeps its arena) is the baseline of the other.
    /// </summary>
    public static Result InOwnProcess(string run, int size)
    {
        using var child = ChildProcess.StartThisTool("memory-child", run, size.ToString(CultureInfo.InvariantCulture));
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        string? last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (child.ExitCode != 0 || last is null || !last.StartsWith('{'))
            throw new InvalidOperationException($"The {run} memory run exited with {child.ExitCode} and printed no result; its output ended: {last}");
        return JsonSerializer.Deserialize<Result>(last)!;
    }

    /// <summary>The child's side of <see cref="InOwnProcess"/>: <c>memory-child featurization|training SIZE</c>, the result as one JSON line.</summary>
    public static int Child(string[] args)
    {
        if (args.Length != 2 || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size <= 0)
        {
            Console.Error.WriteLine("Usage: memory-child featurization|training SIZE (images or steps, a positive integer).");
            return 2;
        }
        Result? result = args[0] switch { "featurization" => Featurization(size), "training" => Training(size), _ => null };
        if (result is null)
        {
            Console.Error.WriteLine($"Unknown memory run '{args[0]}'; choose featurization or training.");
            return 2;
        }
        Console.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }

    /// <summary>Featurises <paramref name="totalImages"/> images (1,000 distinct 64 px scenes, repeated) with ResNet-18 through ML.NET.</summary>
    public static Result Featurization(int totalImages)
    {
        var mlContext = new MLContext(1);
        int distinct = Math.Min(1000, totalImages);
        // The same 1,000 MLImage objects on every pass, so what grows is the featuriser's memory and not the source's:
        // a data view that decodes or renders fresh images leaves each one's native bitmap to the finalizer.
        var rows = SpatialScenes.Generate(distinct, new SpatialScenesOptions { ImageSize = 64, Seed = 5 })
            .Select(scene => new ImageRow { Image = SpatialScenes.ToMLImage(scene) }).ToList();
        var data = mlContext.Data.LoadFromEnumerable(rows);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.ResNet18, ImageSize: 64));
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone, batchSize: 32).Fit(data);
        var samples = new List<double>();
        var tensors = new List<long>();
        int passes = Math.Max(1, totalImages / distinct);
        for (int pass = 0, images = 0; pass < passes; pass++)
        {
            foreach (var _ in featurizer.Transform(data).GetColumn<float[]>("Features"))
            {
                if (++images % 100 != 0) continue;
                samples.Add(ProcessMemory.ResidentMegabytes());
                tensors.Add(Tensor.TotalCount);
            }
        }
        return Summarise($"featurisation, {passes * distinct} images", samples, tensors);
    }

    /// <summary>Trains SimCLR + SP for <paramref name="steps"/> steps (small ResNet, 32 px, batch 32), sampling memory at every step.</summary>
    public static Result Training(int steps)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var images = randint(0, 256, new long[] { 256, 3, 32, 32 }, dtype: ScalarType.Byte);
        var samples = new List<double>();
        var tensors = new List<long>();
        var settings = new PretrainingSettings
        {
            Backbone = BackboneKind.SmallResNet, ImageSize = 32, BatchSize = 32, ValidationFraction = 0,
            Epochs = (steps + 7) / 8,
            // SP on 32 px images: 16 px local views, the smallest the small ResNet takes.
            SpatialPrediction = new Spatial.SpatialPredictionSettings { LocalResolution = 16 },
            Progress = new Progress(samples, tensors),
        };
        SpatialPretrainer.Train(images, settings, CPU).Backbone.Dispose();
        return Summarise($"training, {samples.Count} steps", samples, tensors);
    }

    internal static Result Summarise(string run, List<double> samples, List<long>? tensors = null)
    {
        int First(double fraction) => Math.Clamp((int)Math.Ceiling(fraction * samples.Count) - 1, 0, samples.Count - 1);
        double At(double fraction) => samples[First(fraction)];
        int first = First(0.1), middle = First(0.5);
        var whole = Trend.Fit(samples, first);
        var secondHalf = Trend.Fit(samples, middle);
        int span = samples.Count - 1 - first;
        return new Result(run, whole.RisePercent(span), At(0.1), new[] { At(0.25), At(0.5), At(0.75), At(1) },
            tensors is { Count: > 0 } ? tensors[Math.Min(first, tensors.Count - 1)] : 0, tensors is { Count: > 0 } ? tensors[^1] : 0,
            Enumerable.Range(1, 10).Select(d => At(d / 10.0)).ToList(), secondHalf.RisePercent(samples.Count - 1 - middle),
            secondHalf.RisePercent(span));
    }

    /// <summary>A least-squares line through the samples from one index to the last; x counts from that index.</summary>
    private readonly record struct Trend(double Start, double Slope)
    {
        public static Trend Fit(List<double> samples, int first)
        {
            var window = samples.Skip(first).Select((y, i) => (X: (double)i, Y: y)).ToList();
            double meanX = window.Average(p => p.X), meanY = window.Average(p => p.Y);
            double sxx = window.Sum(p => (p.X - meanX) * (p.X - meanX));
            double slope = sxx > 0 ? window.Sum(p => (p.X - meanX) * (p.Y - meanY)) / sxx : 0;
            return new Trend(meanY - slope * meanX, slope);
        }

        /// <summary>The line's rise over <paramref name="samples"/> steps, relative to its value at its first sample.</summary>
        public double RisePercent(int samples) => 100 * Slope * samples / Start;
    }

    private sealed class ImageRow
    {
        [Microsoft.ML.Transforms.Image.ImageType(64, 64)]
        public MLImage Image { get; set; } = null!;
    }

    private sealed class Progress(List<double> samples, List<long> tensors) : IProgress<PretrainingProgress>
    {
        public void Report(PretrainingProgress value)
        {
            samples.Add(ProcessMemory.ResidentMegabytes());
            tensors.Add(Tensor.TotalCount);
        }
    }
}
