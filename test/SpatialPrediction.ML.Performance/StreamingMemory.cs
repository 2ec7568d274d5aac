using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// Peak resident memory of <c>Fit</c> against the dataset's size (issue 16's bar): pictures of 128 px produced lazily by
/// a generator (<c>LoadFromEnumerable</c>), trained at 64 px (small ResNet width 4, batch 256, SimCLR + SP) for a fixed
/// number of steps after every picture has been read. Each size runs in a process of its own, because peak RSS is the
/// process's high-water mark.
/// </summary>
internal static class StreamingMemory
{
    public static int Run(string[] args)
    {
        int stepsAt = Array.IndexOf(args, "--steps");
        var sizes = args.Where((a, i) => i != stepsAt + 1 && a.All(char.IsAsciiDigit)).Select(int.Parse).DefaultIfEmpty(5_000).ToList();
        var caches = args.Where(a => !a.All(char.IsAsciiDigit) && Enum.TryParse<TrainingImageCache>(a, true, out _)).Select(a => Enum.Parse<TrainingImageCache>(a, true)).DefaultIfEmpty(TrainingImageCache.Auto).ToList();
        int steps = BenchmarkArguments.Integer(args, "--steps", 20);
        var table = new List<string> { "| pictures | cache | peak RSS (MB) | reading (s) | ms per step |", "|---|---|---|---|---|" };
        foreach (var cache in caches)
        foreach (int size in sizes)
        {
            using var child = ChildProcess.StartThisTool("streaming-child", size.ToString(CultureInfo.InvariantCulture), cache.ToString(), steps.ToString(CultureInfo.InvariantCulture));
            string line = child.StandardOutput.ReadToEnd().Trim().Split('\n')[^1];
            child.WaitForExit();
            table.Add(line);
            Console.WriteLine(line);
        }
        Console.WriteLine();
        Console.WriteLine(string.Join(Environment.NewLine, table));
        return 0;
    }

    /// <summary>One measurement (pictures, cache, steps[, the cache's shorter side[, prefetch]]): prints one table row.</summary>
    public static int Child(string[] args)
    {
        int pictures = int.Parse(args[0], CultureInfo.InvariantCulture);
        var cache = Enum.Parse<TrainingImageCache>(args[1]);
        int steps = int.Parse(args[2], CultureInfo.InvariantCulture);
        int side = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 0;
        int? prefetch = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : null;
        var mlContext = new MLContext(1);
        mlContext.Log += (_, e) => { if (e.Message.Contains("Batch loader:", StringComparison.Ordinal)) Console.WriteLine(e.Message); };
        var data = mlContext.Data.LoadFromEnumerable(Pictures(pictures, 128));
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        TimeSpan readDone = TimeSpan.Zero;
        int done = 0;
        var options = new SpatialPretrainOptions
        {
            ImageSize = 64, BackboneWidth = 4, BatchSize = 256, Epochs = 1, ValidationFraction = 0,
            Runtime = { ImageCache = cache, ImageCacheShorterSide = side, PrefetchBatches = prefetch },
            CancellationToken = stop.Token,
            Progress = new ProgressCallback(p =>
            {
                if (done++ == 0) readDone = clock.Elapsed;
                if (p.Step >= steps) stop.Cancel();
            }),
        };
        try
        {
            mlContext.Transforms.SpatialPretrain(options).Fit(data).Backbone.Dispose();
        }
        catch (OperationCanceledException)
        {
            // Stopped after the steps asked for: every picture has been read and training is in its steady state.
        }
        double perStep = (clock.Elapsed - readDone).TotalMilliseconds / Math.Max(1, done - 1);
        Console.WriteLine(FormattableString.Invariant(
            $"| {pictures:N0} | {cache} | {ProcessMemory.PeakResidentMegabytes():F0} | {readDone.TotalSeconds:F1} | {perStep:F0} |"));
        return 0;
    }

    private sealed class Picture
    {
        [Microsoft.ML.Transforms.Image.ImageType(128, 128)]
        public MLImage Image { get; set; } = null!;
    }

    /// <summary>
    /// Distinct pictures made on demand, each a window of a colour field twice the side, shifted by its index: cheap to
    /// make (rows copied), so the measurement is of <c>Fit</c>, not of the generator.
    /// </summary>
    private static IEnumerable<Picture> Pictures(int count, int side)
    {
        int wide = 2 * side;
        var field = new byte[wide * wide * 4];
        for (int y = 0; y < wide; y++)
        for (int x = 0; x < wide; x++)
        {
            int p = (y * wide + x) * 4;
            field[p] = (byte)(x * 255 / wide);
            field[p + 1] = (byte)(y * 255 / wide);
            field[p + 2] = (byte)((x * y) & 255);
            field[p + 3] = 255;
        }
        for (int i = 0; i < count; i++)
        {
            int dx = i % side, dy = i / side % side;
            var pixels = new byte[side * side * 4];
            for (int y = 0; y < side; y++) Array.Copy(field, ((y + dy) * wide + dx) * 4, pixels, y * side * 4, side * 4);
            yield return new Picture { Image = MLImage.CreateFromPixels(side, side, MLPixelFormat.Rgba32, pixels) };
        }
    }
}
