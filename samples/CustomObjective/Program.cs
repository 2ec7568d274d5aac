// A host objective of your own: VICReg, written in this project (VicRegObjective.cs), pretrained on the built-in
// SpatialScenes with and without SP, then compared by a linear probe on the frozen features.
using CustomObjective;
using Microsoft.ML;
using SpatialPrediction.ML;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Objectives;

int trainCount = ArgInt("--train", 1000), testCount = ArgInt("--test", 500), epochs = ArgInt("--epochs", 10), seed = ArgInt("--seed", 1);

var mlContext = new MLContext(seed);
var scenes = new SpatialScenesOptions { ImageSize = 32, Seed = seed };
IDataView train = SpatialScenes.GenerateDataView(mlContext, trainCount, scenes);
IDataView test = SpatialScenes.GenerateDataView(mlContext, testCount, new SpatialScenesOptions { ImageSize = 32, Seed = seed + 1000 });

SpatialPretrainOptions Options(bool spatialPrediction) => new()
{
    Framework = SslFramework.Custom,
    CustomObjective = featureDimension => new VicRegObjective(featureDimension),
    ImageSize = 32,
    BackboneWidth = 16,
    Epochs = epochs,
    Seed = seed,
    SpatialPrediction = new SpatialPredictionOptions { Enabled = spatialPrediction, LocalResolution = 16 },
};

Console.WriteLine($"SpatialScenes: {trainCount} training and {testCount} test images; VICReg for {epochs} epochs, with and without SP.");
Console.WriteLine();
Console.WriteLine("| host            | linear-probe accuracy (test) | VICReg loss, first → last 10 steps |");
Console.WriteLine("|-----------------|------------------------------|------------------------------------|");
foreach (bool sp in new[] { false, true })
{
    var featurizer = mlContext.Transforms.SpatialPretrain(Options(sp)).Fit(train);
    var history = featurizer.TrainingHistory!;
    Console.WriteLine($"| {(sp ? "VICReg + SP" : "VICReg"),-15} | {Probe(featurizer),28:P1} | " +
                      $"{history.MeanOfFirst(10, s => s.HostLoss),15:F3} → {history.MeanOfLast(10, s => s.HostLoss),-16:F3} |");
}

double Probe(SpatialFeaturizerTransformer featurizer)
{
    var probe = mlContext.Transforms.Conversion.MapValueToKey("Label")
        .Append(mlContext.Transforms.NormalizeMinMax("Features"))
        .AppendCacheCheckpoint(mlContext)
        .Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features"));
    var model = probe.Fit(featurizer.Transform(train));
    return mlContext.MulticlassClassification.Evaluate(model.Transform(featurizer.Transform(test))).MicroAccuracy;
}

int ArgInt(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
}
