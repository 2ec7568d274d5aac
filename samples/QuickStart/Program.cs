// Quick start: pretrain SimCLR + Spatial Prediction on the built-in SpatialScenes dataset, then compare linear probes
// on frozen features of a randomly initialised backbone and of the pretrained one.
using System.Diagnostics;
using Microsoft.ML;
using SpatialPrediction.ML;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Training;

int trainCount = ArgInt("--train", 2000), testCount = ArgInt("--test", 1000), epochs = ArgInt("--epochs", 20);
int imageSize = ArgInt("--image-size", 32), seed = ArgInt("--seed", 1);

var mlContext = new MLContext(seed);
// The run's own log has more; this shows how the batch loader chose to run on this machine.
mlContext.Log += (_, e) => { if (e.Message.Contains("Batch loader:", StringComparison.Ordinal)) Console.WriteLine($"  {e.Message[(e.Message.IndexOf("Batch loader:", StringComparison.Ordinal))..]}"); };
var clock = Stopwatch.StartNew();
var sceneOptions = new SpatialScenesOptions { ImageSize = imageSize, Seed = seed };
IDataView train = SpatialScenes.GenerateDataView(mlContext, trainCount, sceneOptions);
IDataView test = SpatialScenes.GenerateDataView(mlContext, testCount, new SpatialScenesOptions { ImageSize = imageSize, Seed = seed + 1000 });
Console.WriteLine($"SpatialScenes: {trainCount} training and {testCount} test images, {imageSize}×{imageSize}, " +
                  $"{SpatialScenes.ClassNames.Count} classes ({clock.Elapsed.TotalSeconds:F1} s)");

SpatialPretrainOptions Options(int epochCount) => new()
{
    Framework = SslFramework.SimClr,
    ImageSize = imageSize,
    BackboneWidth = 16,
    Epochs = epochCount,
    BatchSize = 64,
    LearningRate = 2e-3,
    Seed = seed,
        // λ = 4 balances SP's smooth-L1 (~0.4) against NT-Xent (~4); chosen on a separate validation set (docs/objectives.md).
    SpatialPrediction = new SpatialPredictionOptions { Weight = 4f, LocalResolution = imageSize / 2 },
    Progress = new Progress<PretrainingProgress>(p =>
    {
        if (p.Step % 25 == 0 || p.Step == p.TotalSteps)
            Console.WriteLine($"  step {p.Step,4}/{p.TotalSteps}  epoch {p.Epoch}  SimCLR {p.HostLoss:F3}  SP {p.SpatialLoss:F3}  " +
                              $"{p.ImagesPerSecond:F0} img/s  ETA {p.Remaining:mm\\:ss}");
    }),
};

Console.WriteLine("Random initialisation (no training)...");
var random = mlContext.Transforms.SpatialPretrain(Options(0)).Fit(train);
var randomProbe = Probe(random);

Console.WriteLine($"Pretraining SimCLR + SP for {epochs} epochs on the CPU...");
var pretrained = mlContext.Transforms.SpatialPretrain(Options(epochs)).Fit(train);
var pretrainedProbe = Probe(pretrained);
var history = pretrained.TrainingHistory!;

Console.WriteLine();
Console.WriteLine("| backbone                   | linear-probe accuracy (test) | SP validation loss |");
Console.WriteLine("|----------------------------|------------------------------|--------------------|");
Console.WriteLine($"| random init                | {randomProbe,28:P1} | {random.TrainingHistory!.SpatialValidationLossBefore,18:F3} |");
Console.WriteLine($"| SimCLR + SP, {epochs,2} epochs     | {pretrainedProbe,28:P1} | {history.SpatialValidationLossAfter,18:F3} |");
Console.WriteLine();
Console.WriteLine($"Pretraining: {history.Steps.Count} steps in {history.Elapsed.TotalSeconds:F0} s on {history.Device}; " +
                  $"SimCLR loss {history.MeanOfFirst(10, s => s.HostLoss):F3} → {history.MeanOfLast(10, s => s.HostLoss):F3}, " +
                  $"SP loss {history.MeanOfFirst(10, s => s.SpatialLoss):F3} → {history.MeanOfLast(10, s => s.SpatialLoss):F3} " +
                  "(mean of first / last 10 steps). Chance accuracy is " + (1.0 / SpatialScenes.ClassNames.Count).ToString("P1") + ".");
Console.WriteLine($"Total time {clock.Elapsed.TotalSeconds:F0} s.");

double Probe(SpatialFeaturizerTransformer featurizer)
{
    var probe = mlContext.Transforms.Conversion.MapValueToKey("Label")
        .Append(mlContext.Transforms.NormalizeMinMax("Features"))
        .AppendCacheCheckpoint(mlContext)
        .Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features"));
    var model = probe.Fit(featurizer.Transform(train));
    var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(featurizer.Transform(test)));
    return metrics.MicroAccuracy;
}

int ArgInt(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
}
