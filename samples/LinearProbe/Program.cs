// Linear probe and k-NN on frozen features: how well a featuriser separates labelled classes.
//   dotnet run -c Release --project samples/LinearProbe -- [model.zip train-folder-or-csv test-folder-or-csv]
// Without arguments it compares a random backbone with one pretrained here on SpatialScenes. Writes linear-probe.png.
using Microsoft.ML;
using SpatialPrediction.ML;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Evaluation;
using SpatialPrediction.ML.Training;
using SpatialPrediction.ML.Reporting;

var mlContext = new MLContext(seed: 1);
List<(string Name, ITransformer Model)> featurizers;
List<Microsoft.ML.Data.MLImage> trainImages, testImages;
List<int> trainLabels, testLabels;
if (args.Length == 3)
{
    featurizers = new() { (Path.GetFileName(args[0]), mlContext.Model.LoadWithReason(args[0], out _)) };
    var train = Open(args[1]);
    var test = Open(args[2]);
    var classes = train.ClassNames.ToList();
    (trainImages, trainLabels) = (train.Entries.Select(e => ImageDataset.Decode(e.Path)).ToList(), train.Entries.Select(e => classes.IndexOf(e.Label)).ToList());
    (testImages, testLabels) = (test.Entries.Select(e => ImageDataset.Decode(e.Path)).ToList(), test.Entries.Select(e => classes.IndexOf(e.Label)).ToList());
}
else
{
    var train = SpatialScenes.Generate(1000, new SpatialScenesOptions { ImageSize = 32, Seed = 1 });
    var test = SpatialScenes.Generate(500, new SpatialScenesOptions { ImageSize = 32, Seed = 2 });
    (trainImages, trainLabels) = (train.Select(SpatialScenes.ToMLImage).ToList(), train.Select(s => s.Label).ToList());
    (testImages, testLabels) = (test.Select(SpatialScenes.ToMLImage).ToList(), test.Select(s => s.Label).ToList());
    var progress = new ConsoleProgressBar();
    SpatialFeaturizerTransformer Pretrain(int epochs) => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions
    {
        ImageSize = 32, BackboneWidth = 16, Epochs = epochs, ValidationFraction = 0, Progress = progress,
        SpatialPrediction = new SpatialPredictionOptions { Weight = 4f, LocalResolution = 16 },
    }).Fit(SpatialScenes.ToDataView(mlContext, train));
    featurizers = new() { ("random init", Pretrain(0)), ("SimCLR + SP, 10 epochs", Pretrain(10)) };
    progress.Finish();
}

var rows = new List<(string Name, double[] Values)>();
foreach (var (name, model) in featurizers)
{
    var features = model.AsImageFeaturizer();
    var trainFeatures = features(trainImages);
    var testFeatures = features(testImages);
    double probe = SpatialEvaluation.LinearProbe(mlContext, trainFeatures, trainLabels, testFeatures, testLabels).MicroAccuracy;
    var knn = SpatialEvaluation.KnnProbe(trainFeatures, trainLabels, testFeatures, testLabels);
    rows.Add((name, new[] { probe, knn.Top1, knn.Top5 }));
    Console.WriteLine($"{name,-28} linear probe {probe:P1}   k-NN top-1 {knn.Top1:P1}   top-5 {knn.Top5:P1}");
}
ResultCharts.Bars("linear-probe.png", "Frozen-feature classification (test split)", new[] { "linear probe", "k-NN top-1", "k-NN top-5" }, rows);
Console.WriteLine($"Chart: {Path.GetFullPath("linear-probe.png")}");

static ImageDataset Open(string path) => Directory.Exists(path) ? ImageDataset.FromFolder(path) : ImageDataset.FromCsv(path);
