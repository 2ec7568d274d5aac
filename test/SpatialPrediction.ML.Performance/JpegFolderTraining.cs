using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// Training from a folder of JPEG files, as a user with a large collection would (issue 16's bar): <c>write-jpegs</c>
/// writes the folder (never committed), <c>jpeg-training</c> trains SimCLR + SP on it (small ResNet width 4, 64 px,
/// batch 256) and samples resident memory after every step, so the trend across the epochs shows whether memory stays
/// flat while the pictures are read back from the cache.
/// </summary>
internal static class JpegFolderTraining
{
    /// <summary>Writes <c>args[1]</c> JPEG files (400×320 and 320×400 scenes, quality 90) into <c>args[0]</c>/scenes (one class).</summary>
    public static int Write(string[] args)
    {
        if (args.Length < 2) throw new ArgumentException("write-jpegs FOLDER COUNT");
        string folder = Path.Combine(args[0], "scenes");
        int count = int.Parse(args[1], CultureInfo.InvariantCulture);
        Directory.CreateDirectory(folder);
        const int chunk = 100;
        var clock = Stopwatch.StartNew();
        long bytes = 0;
        // Bounded to one chunk per core: the thread pool would otherwise start more and hold their scenes at once.
        Parallel.For(0, (count + chunk - 1) / chunk, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, c =>
        {
            int start = c * chunk, n = Math.Min(chunk, count - start);
            // A folder written in part before (an interrupted run) is completed, not rewritten.
            if (File.Exists(Path.Combine(folder, $"scene{start + n - 1:D7}.jpg"))) return;
            var scenes = SpatialScenes.Generate(n, new SpatialScenesOptions { ImageSize = 400, Seed = 1000 + c });
            for (int i = 0; i < n; i++)
            {
                var jpeg = DataPipelineThroughput.EncodeJpeg(scenes[i], 320);
                // Every other picture stands upright, so the folder has both orientations.
                if ((start + i) % 2 == 1) jpeg = Rotate(jpeg);
                File.WriteAllBytes(Path.Combine(folder, $"scene{start + i:D7}.jpg"), jpeg);
                Interlocked.Add(ref bytes, jpeg.Length);
            }
        });
        Console.WriteLine($"{count:N0} JPEG files, {bytes >> 20} MB, in {folder} ({clock.Elapsed.TotalSeconds:F0} s)");
        return 0;
    }

    /// <summary>
    /// Trains for <c>--epochs</c> (default 2; or until <c>--steps</c>) on the folder <c>args[0]</c> with <c>--cache</c> and
    /// <c>--prefetch</c> (batches the loader thread makes ahead; default the library's) and prints the memory trend per epoch.
    /// </summary>
    public static int Train(string[] args)
    {
        string folder = args[0];
        int epochs = BenchmarkArguments.Integer(args, "--epochs", 2);
        var cache = Enum.Parse<TrainingImageCache>(BenchmarkArguments.Text(args, "--cache", "Auto"), true);
        string prefetch = BenchmarkArguments.Text(args, "--prefetch", "default");
        int stopAfter = BenchmarkArguments.Integer(args, "--steps", int.MaxValue);
        var mlContext = new MLContext(1);
        var data = ImageDataset.FromFolder(folder).ToDataView(mlContext);
        var samples = new List<(int Epoch, double Megabytes)>();
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        TimeSpan readDone = TimeSpan.Zero;
        var options = new SpatialPretrainOptions
        {
            ImageSize = 64, BackboneWidth = 4, BatchSize = 256, Epochs = epochs, ValidationFraction = 0,
            Runtime = { ImageCache = cache, PrefetchBatches = prefetch == "default" ? null : int.Parse(prefetch, CultureInfo.InvariantCulture) },
            CancellationToken = stop.Token,
            Progress = new ProgressCallback(p =>
            {
                if (samples.Count == 0) readDone = clock.Elapsed;
                samples.Add((p.Epoch, ProcessMemory.ResidentMegabytes()));
                if (p.Step >= stopAfter) stop.Cancel();
                if (p.Step % 20 == 0) Console.WriteLine(FormattableString.Invariant($"step {p.Step}/{p.TotalSteps}, epoch {p.Epoch}, RSS {samples[^1].Megabytes:F0} MB, {p.ImagesPerSecond:F0} img/s"));
            }),
        };
        mlContext.Log += (_, e) => { if (e.Message.Contains("Training images:") || e.Message.Contains("temporary file") || e.Message.Contains("Batch loader:")) Console.WriteLine(e.Message); };
        try
        {
            mlContext.Transforms.SpatialPretrain(options).Fit(data).Backbone.Dispose();
        }
        catch (OperationCanceledException)
        {
            // Stopped after --steps: enough steps for a speed figure.
        }
        var total = clock.Elapsed;
        long count = Directory.EnumerateFiles(folder, "*.jpg", SearchOption.AllDirectories).LongCount();
        var drift = MemoryDrift.Summarise($"{epochs} epochs", samples.Select(s => s.Megabytes).ToList());
        Console.WriteLine();
        Console.WriteLine($"prefetch: {prefetch}");
        Console.WriteLine("| pictures | cache | reading (s) | pictures/s read | ms per step | peak RSS (MB) | mean RSS per epoch (MB) | trend over the run |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        string perEpoch = string.Join(" / ", samples.GroupBy(s => s.Epoch).Select(g => g.Average(s => s.Megabytes).ToString("F0", CultureInfo.InvariantCulture)));
        Console.WriteLine(FormattableString.Invariant(
            $"| {count:N0} | {cache} | {readDone.TotalSeconds:F0} | {count / readDone.TotalSeconds:F0} | {(total - readDone).TotalMilliseconds / Math.Max(1, samples.Count - 1):F0} | {ProcessMemory.PeakResidentMegabytes():F0} | {perEpoch} | {drift.DriftPercent:+0.0;-0.0} % |"));
        return 0;
    }

    private static byte[] Rotate(byte[] jpeg)
    {
        using var bitmap = SkiaSharp.SKBitmap.Decode(jpeg);
        using var rotated = new SkiaSharp.SKBitmap(bitmap.Height, bitmap.Width);
        using (var canvas = new SkiaSharp.SKCanvas(rotated))
        {
            canvas.Translate(rotated.Width, 0);
            canvas.RotateDegrees(90);
            canvas.DrawBitmap(bitmap, 0, 0);
        }
        using var encoded = rotated.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 90);
        return encoded.ToArray();
    }
}
