// Robustness of frozen features: linear-probe accuracy under six corruptions at five severities, SimCLR vs SimCLR + SP.
//   dotnet run -c Release --project samples/Robustness
// Writes robustness.png (accuracy against severity).
using Microsoft.ML;
using SpatialPrediction.ML;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Evaluation;
using SpatialPrediction.ML.Training;
using SpatialPrediction.ML.Reporting;

var mlContext = new MLContext(seed: 1);
var train = SpatialScenes.Generate(1000, new SpatialScenesOptions { ImageSize = 32, Seed = 1 });
var test = SpatialScenes.Generate(300, new SpatialScenesOptions { ImageSize = 32, Seed = 2 });
var progress = new ConsoleProgressBar();
SpatialFeaturizerTransformer Pretrain(bool sp) => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions
{
    ImageSize = 32, BackboneWidth = 16, Epochs = 10, ValidationFraction = 0, Progress = progress,
    SpatialPrediction = new SpatialPredictionOptions { Enabled = sp, Weight = 4f, LocalResolution = 16 },
}).Fit(SpatialScenes.ToDataView(mlContext, train));
var featurizers = new[] { ("SimCLR", Pretrain(false)), ("SimCLR + SP", Pretrain(true)) };
progress.Finish();

var series = new List<(string Name, double[] Values)>();
foreach (var (name, model) in featurizers)
{
    var report = SpatialEvaluation.CorruptionRobustness(mlContext, model.AsImageFeaturizer(),
        train.Select(SpatialScenes.ToMLImage).ToList(), train.Select(s => s.Label).ToList(),
        test.Select(SpatialScenes.ToMLImage).ToList(), test.Select(s => s.Label).ToList(), seed: 1);
    var bySeverity = SpatialEvaluation.CorruptionSeverities.Select(v => report.Scores.Where(s => s.Severity == v).Average(s => s.Accuracy)).ToArray();
    series.Add((name, new[] { report.CleanAccuracy }.Concat(bySeverity).ToArray()));
    Console.WriteLine($"{name,-12} clean {report.CleanAccuracy:P1}   mean over corruptions {report.MeanCorruptionAccuracy:P1}   " +
                      string.Join("  ", Enum.GetValues<CorruptionKind>().Select(k => $"{k} {report.Scores.Where(s => s.Kind == k).Average(s => s.Accuracy):P0}")));
}
ResultCharts.Lines("robustness.png", "Linear-probe accuracy under corruption (0 = clean)", "severity", series);
Console.WriteLine($"Chart: {Path.GetFullPath("robustness.png")}");
