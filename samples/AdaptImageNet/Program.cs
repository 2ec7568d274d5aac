// Should you pretrain at all? Compares, on your own labelled folder, ML.NET's frozen DnnFeaturizeImage (ImageNet
// ResNet-18, 224 px), the same ImageNet weights frozen in this library's featuriser (plain, and with SpatialPyramid), and
// what AdaptIfBetter returns: those weights adapted to your pictures with the ImageNet-adaptation recipe if a
// cross-validated probe on the training labels scores them higher, else the frozen ones (both with SpatialPyramid). One
// linear probe each, on a held-out fifth of the images.
//   dotnet run -c Release --project samples/AdaptImageNet -- [folder-or-csv]
// The folder has one sub-folder per class, or the CSV has path,label rows. Without arguments a folder of SpatialScenes
// PNGs is written first, so the sample runs as it is.
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Transforms.Image;
using SpatialPrediction.ML;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Evaluation;
using SpatialPrediction.ML.Training;
using SpatialPrediction.ML.Reporting;
using SkiaSharp;

string source = args.Length > 0 ? args[0] : WriteSampleFolder(Path.Combine(Path.GetTempPath(), "sp-adapt-sample-images"));
var dataset = Directory.Exists(source) ? ImageDataset.FromFolder(source) : ImageDataset.FromCsv(source);
var check = dataset.Check();
foreach (var bad in check.Unreadable) Console.WriteLine($"skipping {bad.Path}: {bad.Reason}");

// One image in five is held out, chosen by its path, so reruns hold out the same images.
var entries = check.Readable.Entries;
var train = new ImageDataset(entries.Where(e => !HeldOut(e.Path)).ToList());
var test = new ImageDataset(entries.Where(e => HeldOut(e.Path)).ToList());
var classes = train.ClassNames.ToList();
Console.WriteLine($"{train.Entries.Count} training and {test.Entries.Count} held-out images, {classes.Count} classes.");

var mlContext = new MLContext(seed: 1);
var trainImages = train.Entries.Select(e => ImageDataset.Decode(e.Path)).ToList();
var testImages = test.Entries.Select(e => ImageDataset.Decode(e.Path)).ToList();
var trainLabels = train.Entries.Select(e => classes.IndexOf(e.Label)).ToList();
var testLabels = test.Entries.Select(e => classes.IndexOf(e.Label)).ToList();
var rows = new List<(string Name, double Probe, double Standardized, double Seconds)>();

void Measure(string name, ITransformer featurizer, double seconds)
{
    var features = featurizer.AsImageFeaturizer();
    var trainFeatures = features(trainImages);
    var testFeatures = features(testImages);
    double probe = SpatialEvaluation.LinearProbe(mlContext, trainFeatures, trainLabels, testFeatures, testLabels).MicroAccuracy;
    double standardized = StandardizedLinearProbe.Fit(mlContext, trainFeatures, trainLabels).Evaluate(testFeatures, testLabels).MicroAccuracy;
    rows.Add((name, probe, standardized, seconds));
    Console.WriteLine($"  {name}: {probe:P1}");
}

var trainData = train.ToDataView(mlContext);
var dnn = mlContext.Transforms.ResizeImages("Resized", 224, 224, "Image", ImageResizingEstimator.ResizingKind.Fill)
    .Append(mlContext.Transforms.ExtractPixels("Pixels", "Resized"))
    .Append(mlContext.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(mlContext, m.OutputColumn, m.InputColumn), "Pixels"))
    .Fit(trainData);
Measure("DnnFeaturizeImage (ML.NET, frozen, 224 px)", dnn, 0);

using var imageNet = SpatialBackbone.ImageNetResNet18();
Measure("ImageNet ResNet-18 in SpatialFeaturize (frozen, 224 px)", mlContext.Transforms.SpatialFeaturize(imageNet).Fit(trainData), 0);
Measure("the same with SpatialPyramid (usual features + quadrant averages)",
    mlContext.Transforms.SpatialFeaturize(imageNet, new SpatialFeaturizeOptions { SpatialPyramid = true }).Fit(trainData), 0);

// Adapt, but keep the adapted weights only if a cross-validated probe on the training labels says they are better.
var options = SpatialPretrainOptions.ImageNetAdaptation(imageNet);
var progress = new ConsoleProgressBar();
options.Progress = progress;
var clock = Stopwatch.StartNew();
var choice = mlContext.Transforms.AdaptIfBetter(trainData, options);
progress.Finish();
Console.WriteLine($"  AdaptIfBetter: {choice}");
Measure(choice.Adapted ? $"chosen: adapted ({options.Epochs} epochs at {options.ImageSize} px)" : "chosen: frozen (adapting did not pay here)",
    choice.Featurizer, clock.Elapsed.TotalSeconds);
if (choice.Adapted) choice.Featurizer.Backbone.Dispose();

Console.WriteLine();
Console.WriteLine("| featuriser | linear probe (held out) | z-scored, CV L2 probe | pretraining |");
Console.WriteLine("|---|---|---|---|");
foreach (var row in rows)
    Console.WriteLine($"| {row.Name} | {row.Probe:P1} | {row.Standardized:P1} | {(row.Seconds > 0 ? $"{row.Seconds:F0} s" : "–")} |");
Console.WriteLine($"One split, one seed: differences of a few points on {test.Entries.Count} held-out images are within noise.");
foreach (var image in trainImages.Concat(testImages)) image.Dispose();
return;

static bool HeldOut(string path)
{
    uint hash = 2166136261;
    foreach (char c in Path.GetFileName(path)) hash = (hash ^ c) * 16777619;
    return hash % 5 == 0;
}

static string WriteSampleFolder(string root)
{
    foreach (var scene in SpatialScenes.Generate(600, new SpatialScenesOptions { ImageSize = 64, Seed = 11 }).Select((s, i) => (s, i)))
    {
        string folder = Path.Combine(root, SpatialScenes.ClassNames[scene.s.Label]);
        Directory.CreateDirectory(folder);
        using var image = SKImage.FromPixelCopy(new SKImageInfo(64, 64, SKColorType.Rgba8888, SKAlphaType.Unpremul), SpatialScenes.ToMLImage(scene.s).Pixels);
        File.WriteAllBytes(Path.Combine(folder, $"{scene.i:D4}.png"), image.Encode(SKEncodedImageFormat.Png, 100).ToArray());
    }
    return root;
}
