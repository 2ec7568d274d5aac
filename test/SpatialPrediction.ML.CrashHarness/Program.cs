// Child process of the crash-safety tests (test/SpatialPrediction.ML.Tests/Reliability/KillAndResumeTests.cs).
// Usage: SpatialPrediction.ML.CrashHarness <checkpoint folder> <weights output file> [<image cache folder> | --files <folder>]
//    or: SpatialPrediction.ML.CrashHarness probe   (loads TorchSharp through the library's native fix and prints what it did)
//    or: SpatialPrediction.ML.CrashHarness onednn  (the oneDNN mode this process chose, then the trainings that went
//        wrong where CPUID hides the cache sizes: two identical tiny runs on two threads, ResNet-50 forward and backward)
// Trains a fixed SimCLR + SP run on generated scenes with a checkpoint after every step, resuming from the folder when it
// holds one; prints "step N" after each step (the parent kills the process at a chosen step) and, at the end, writes
// every backbone tensor in name order to the output file, for a byte comparison with an uninterrupted run.
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Training;
using static TorchSharp.torch;

if (args.Length == 1 && args[0] == "probe")
{
    // For the native-fix test: this library's loader first, then a first TorchSharp call.
    Console.Out.WriteLine($"status: {SpatialPrediction.ML.Interop.TorchSharpNativeLoader.Status}");
    Console.Out.WriteLine($"sum: {ones(3).sum().item<float>()}");
    return 0;
}
if (args.Length == 1 && args[0] == "onednn") return OneDnnChecks.Run();
if (args.Length is not (2 or 3 or 4) || (args.Length == 4 && args[2] != "--files"))
{
    Console.Error.WriteLine("usage: SpatialPrediction.ML.CrashHarness <checkpoint folder> <weights output file> [<image cache folder> | --files <folder>]");
    return 2;
}
set_num_threads(1); // the same arithmetic in every process, whatever the machine's core count
var scenes = SpatialScenes.Generate(48, new SpatialScenesOptions { ImageSize = 32, Seed = 11 });
// Scenes are interleaved RGB; the engine takes planar [N, 3, H, W].
using var images = tensor(scenes.SelectMany(s => s.Rgb).ToArray(), new long[] { scenes.Count, 32, 32, 3 }, dtype: ScalarType.Byte).permute(0, 3, 1, 2).contiguous();
var settings = new PretrainingSettings
{
    Framework = SslFramework.SimClr,
    BackboneWidth = 8,
    SpatialPrediction = new SpatialPredictionSettings { LocalResolution = 16, HeadWidth = 32 },
    ImageSize = 32,
    BatchSize = 16,
    Epochs = 10,
    Seed = 5,
    ValidationFraction = 0,
    CheckpointDirectory = args[0],
    CheckpointEverySteps = 1,
    Progress = new StepPrinter(),
};
// With a cache folder the images are read from a temporary file there, as Fit does for large datasets; with --files
// every batch decodes PNG files of the same scenes again (ImageCache None).
using SpatialPrediction.ML.Training.TrainingImages store = args.Length switch
{
    3 => ToFile(images, args[2]),
    4 => ToPngFiles(scenes, args[3]),
    _ => new TensorTrainingImages(images),
};
var result = SpatialPretrainer.Train(store, settings, CPU);
using var backbone = result.Backbone;
using (var output = File.Create(args[1]))
{
    foreach (var (name, value) in backbone.state_dict().OrderBy(p => p.Key, StringComparer.Ordinal))
    {
        output.Write(System.Text.Encoding.UTF8.GetBytes(name));
        output.Write(value.contiguous().cpu().bytes);
    }
}
Console.Out.WriteLine("done");
return 0;

static FileTrainingImages ToFile(Tensor images, string folder)
{
    using var writer = FileTrainingImages.Create(folder);
    for (long i = 0; i < images.shape[0]; i++) writer.Append(new DecodedPicture(images[i].contiguous().bytes.ToArray(), (int)images.shape[2], (int)images.shape[3]));
    return writer.Finish();
}

static DecodingTrainingImages ToPngFiles(IReadOnlyList<SceneImage> scenes, string folder)
{
    Directory.CreateDirectory(folder);
    var paths = new List<string>();
    for (int i = 0; i < scenes.Count; i++)
    {
        string path = Path.Combine(folder, $"scene{i:D2}.png");
        paths.Add(path);
        if (File.Exists(path)) continue;
        var scene = scenes[i];
        using var bitmap = new SkiaSharp.SKBitmap(scene.Width, scene.Height, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque);
        for (int y = 0; y < scene.Height; y++)
        for (int x = 0; x < scene.Width; x++)
        {
            int p = 3 * (y * scene.Width + x);
            bitmap.SetPixel(x, y, new SkiaSharp.SKColor(scene.Rgb[p], scene.Rgb[p + 1], scene.Rgb[p + 2]));
        }
        using var png = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        // Written whole under another name first, so a kill never leaves a half-written picture for the next run.
        File.WriteAllBytes(path + ".part", png.ToArray());
        File.Move(path + ".part", path, overwrite: true);
    }
    return new DecodingTrainingImages(paths, maxSide: 64, threads: 1, skipped: null);
}

/// <summary>Prints each finished step at once (on the training thread), so the parent sees it before the next step.</summary>
internal sealed class StepPrinter : IProgress<PretrainingProgress>
{
    public void Report(PretrainingProgress value)
    {
        Console.Out.WriteLine($"step {value.Step}");
        Console.Out.Flush();
    }
}
