// The two spatial tests of the SP paper on frozen features: patch pairs (regress the relative position and scale of
// two patches; R²) and the jigsaw (put shuffled tiles back; accuracy). Random init vs SimCLR vs SimCLR + SP.
//   dotnet run -c Release --project samples/SpatialTests -- [folder-or-csv of test images]
// Writes spatial-tests.png.
using Microsoft.ML;
using SpatialPrediction.ML;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Evaluation;
using SpatialPrediction.ML.Training;
using SpatialPrediction.ML.Reporting;

var mlContext = new MLContext(seed: 1);
var train = SpatialScenes.Generate(1000, new SpatialScenesOptions { ImageSize = 32, Seed = 1 });
List<Microsoft.ML.Data.MLImage> images;
List<int> labels;
if (args.Length > 0)
{
    var test = Directory.Exists(args[0]) ? ImageDataset.FromFolder(args[0]) : ImageDataset.FromCsv(args[0]);
    images = test.Entries.Select(e => ImageDataset.Decode(e.Path)).ToList();
    labels = test.Entries.Select(e => test.ClassNames.ToList().IndexOf(e.Label)).ToList();
}
else
{
    var test = SpatialScenes.Generate(200, new SpatialScenesOptions { ImageSize = 32, Seed = 2 });
    (images, labels) = (test.Select(SpatialScenes.ToMLImage).ToList(), test.Select(s => s.Label).ToList());
}

var progress = new ConsoleProgressBar();
SpatialFeaturizerTransformer Pretrain(int epochs, bool sp) => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions
{
    ImageSize = 32, BackboneWidth = 16, Epochs = epochs, ValidationFraction = 0, Progress = progress,
    SpatialPrediction = new SpatialPredictionOptions { Enabled = sp, Weight = 4f, LocalResolution = 16 },
}).Fit(SpatialScenes.ToDataView(mlContext, train));
var featurizers = new[] { ("random init", Pretrain(0, false)), ("SimCLR", Pretrain(10, false)), ("SimCLR + SP", Pretrain(10, true)) };
progress.Finish();

var rows = new List<(string Name, double[] Values)>();
foreach (var (name, model) in featurizers)
{
    var features = model.AsImageFeaturizer();
    var pairs = SpatialEvaluation.PatchPairTest(features, images, new PatchPairOptions { PatchResolution = 16 });
    var jigsaw = SpatialEvaluation.JigsawTest(mlContext, features, images, labels, new JigsawOptions { Grid = 2, TileResolution = 16 });
    rows.Add((name, new[] { Math.Max(pairs.MeanRSquared, 0), jigsaw.TileAccuracy, jigsaw.PermutationAccuracy }));
    Console.WriteLine($"{name,-12} patch-pair mean R² {pairs.MeanRSquared:F3}   jigsaw tiles {jigsaw.TileAccuracy:P1}   exact {jigsaw.PermutationAccuracy:P1}");
}
ResultCharts.Bars("spatial-tests.png", "Spatial tests on frozen features", new[] { "patch-pair mean R²", "jigsaw tile acc.", "jigsaw exact perm." }, rows);
Console.WriteLine($"Chart: {Path.GetFullPath("spatial-tests.png")}");
