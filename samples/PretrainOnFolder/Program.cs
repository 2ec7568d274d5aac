// Pretrain on your own images and save the featuriser in an ML.NET model zip.
//   dotnet run -c Release --project samples/PretrainOnFolder -- [folder-or-csv] [model.zip]
// The folder has one sub-folder per class (photos/cat/*.jpg, ...), or the CSV has path,label rows. Without arguments a
// folder of SpatialScenes PNGs is written first, so the sample runs as it is.
using Microsoft.ML;
using SpatialPrediction.ML;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Training;
using SkiaSharp;
using SpatialPrediction.ML.Reporting;

string source = args.Length > 0 ? args[0] : WriteSampleFolder(Path.Combine(Path.GetTempPath(), "sp-sample-images"));
string modelPath = args.Length > 1 ? args[1] : "model.zip";

var dataset = Directory.Exists(source) ? ImageDataset.FromFolder(source) : ImageDataset.FromCsv(source);
var check = dataset.Check(); // decodes every file once; unreadable ones are listed, not fatal
foreach (var bad in check.Unreadable) Console.WriteLine($"skipping {bad.Reason}");
Console.WriteLine($"{check.Readable.Entries.Count} images, classes: {string.Join(", ", dataset.ClassNames)}");

var mlContext = new MLContext(seed: 1);
var data = check.Readable.ToDataView(mlContext);
var progress = new ConsoleProgressBar();
var featurizer = mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions
{
    Framework = SslFramework.Dino, ImageSize = 32, BackboneWidth = 16, Epochs = 10, BatchSize = 64,
    CheckpointDirectory = modelPath + ".checkpoints", // a second run after Ctrl+C or a crash resumes from here
    SpatialPrediction = new SpatialPredictionOptions { Weight = 4f, LocalResolution = 16 },
    Progress = progress,
}).Fit(data);
progress.Finish();

mlContext.Model.Save(featurizer, data.Schema, modelPath);
Console.WriteLine($"Saved {modelPath}: {featurizer.Backbone.FeatureDimension} features per image; load it with mlContext.Model.Load.");
featurizer.Backbone.Dispose();
return;

static string WriteSampleFolder(string root)
{
    foreach (var scene in SpatialScenes.Generate(800, new SpatialScenesOptions { ImageSize = 32, Seed = 7 }).Select((s, i) => (s, i)))
    {
        string folder = Path.Combine(root, SpatialScenes.ClassNames[scene.s.Label]);
        Directory.CreateDirectory(folder);
        using var image = SKImage.FromPixelCopy(new SKImageInfo(32, 32, SKColorType.Rgba8888, SKAlphaType.Unpremul), SpatialScenes.ToMLImage(scene.s).Pixels);
        File.WriteAllBytes(Path.Combine(folder, $"{scene.i:D4}.png"), image.Encode(SKEncodedImageFormat.Png, 100).ToArray());
    }
    return root;
}
