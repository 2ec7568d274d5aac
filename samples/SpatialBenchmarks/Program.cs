// Runs the paper's evaluations on SpatialScenes for several featurisers (random init, SimCLR, SimCLR + SP) and seeds,
// and writes a Markdown report with PNG charts. Usage:
//   dotnet run -c Release --project samples/SpatialBenchmarks -- [--seeds 1] [--train 2000] [--test 1000] [--epochs 10] [--out artifacts/spatial-benchmarks]
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using SpatialBenchmarks;
using SpatialPrediction.ML;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Evaluation;
using SpatialPrediction.ML.Objectives;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
int seeds = Arg("--seeds", 1), trainCount = Arg("--train", 2000), testCount = Arg("--test", 1000), epochs = Arg("--epochs", 10);
string output = ArgText("--out", Path.Combine("artifacts", "spatial-benchmarks"));
Directory.CreateDirectory(output);
const int imageSize = 32;
var clock = Stopwatch.StartNew();

var featurizers = new (string Name, SslFramework Framework, bool Spatial, int Epochs)[]
{
    ("random init", SslFramework.SimClr, false, 0),
    ("SimCLR", SslFramework.SimClr, false, epochs),
    ("SimCLR + SP", SslFramework.SimClr, true, epochs),
};
var results = featurizers.ToDictionary(f => f.Name, _ => new Dictionary<string, List<double>>());

for (int seed = 1; seed <= seeds; seed++)
{
    var mlContext = new MLContext(seed);
    var trainOptions = new SpatialScenesOptions { ImageSize = imageSize, Seed = seed };
    var testOptions = new SpatialScenesOptions { ImageSize = imageSize, Seed = 1000 + seed };
    var trainScenes = SpatialScenes.Generate(trainCount, trainOptions);
    var testScenes = SpatialScenes.Generate(testCount, testOptions);
    var trainImages = trainScenes.Select(SpatialScenes.ToMLImage).ToList();
    var testImages = testScenes.Select(SpatialScenes.ToMLImage).ToList();
    var trainLabels = trainScenes.Select(s => s.Label).ToList();
    var testLabels = testScenes.Select(s => s.Label).ToList();

    foreach (var (name, framework, spatial, featurizerEpochs) in featurizers)
    {
        Console.WriteLine($"[{clock.Elapsed:mm\\:ss}] seed {seed}: {name}");
        var options = new SpatialPretrainOptions
        {
            Framework = framework, ImageSize = imageSize, BackboneWidth = 16, Epochs = featurizerEpochs, BatchSize = 64, Seed = seed,
            FeatureMapColumnName = "FeatureMap",
            SpatialPrediction = new SpatialPredictionOptions { Enabled = spatial, Weight = 4f, LocalResolution = imageSize / 2 },
        };
        var featurizer = mlContext.Transforms.SpatialPretrain(options).Fit(SpatialScenes.ToDataView(mlContext, trainScenes));
        var features = ImageFeaturizers.FromTransformer(featurizer);
        var dense = DenseFeaturizers.FromTransformer(featurizer);
        var record = results[name];
        void Add(string metric, double value) => (record.TryGetValue(metric, out var list) ? list : record[metric] = new List<double>()).Add(value);

        var trainFeatures = features(trainImages);
        var testFeatures = features(testImages);
        Add("linear probe", LinearProbe.Evaluate(mlContext, trainFeatures, trainLabels, testFeatures, testLabels).MicroAccuracy);
        var knn = KnnProbe.Evaluate(trainFeatures, trainLabels, testFeatures, testLabels);
        Add("k-NN top-1", knn.Top1);
        Add("k-NN top-5", knn.Top5);

        var pairs = PatchPairSpatialTest.Evaluate(mlContext, features, testImages.Take(200).ToList(), new PatchPairOptions { PatchResolution = imageSize / 2, Seed = seed });
        foreach (var target in pairs.Targets) Add($"patch-pair R² {target.Target}", target.RSquared);
        Add("patch-pair mean R²", pairs.MeanRSquared);

        foreach (int grid in new[] { 2, 3 })
        {
            var jigsaw = JigsawTest.Evaluate(mlContext, features, testImages.Take(300).ToList(), testLabels.Take(300).ToList(),
                new JigsawOptions { Grid = grid, TileResolution = imageSize / 2, Seed = seed });
            Add($"jigsaw {grid}×{grid} tile acc.", jigsaw.TileAccuracy);
            Add($"jigsaw {grid}×{grid} exact perm.", jigsaw.PermutationAccuracy);
            Add($"jigsaw {grid}×{grid} original", jigsaw.OriginalAccuracy);
            Add($"jigsaw {grid}×{grid} shuffled", jigsaw.ShuffledAccuracy);
            Add($"jigsaw {grid}×{grid} reconstructed", jigsaw.ReconstructedAccuracy);
        }

        var segmentation = DenseProbe.Segmentation(mlContext, dense, trainScenes.Take(400).ToList(), testScenes.Take(200).ToList());
        Add("segmentation mIoU", segmentation.MeanIoU);
        Add("segmentation pixel acc.", segmentation.PixelAccuracy);
        var depth = DenseProbe.Depth(mlContext, dense, trainScenes.Take(400).ToList(), testScenes.Take(200).ToList());
        Add("depth RMSE", depth.Rmse);
        Add("depth AbsRel", depth.AbsRel);
        Add("depth δ<1.25", depth.Delta125);

        var corruptions = RobustnessEvaluation.Corruptions(mlContext, features, trainImages, trainLabels,
            testImages.Take(500).ToList(), testLabels.Take(500).ToList(), seed: seed);
        Add("clean accuracy", corruptions.CleanAccuracy);
        Add("mean corruption accuracy", corruptions.MeanCorruptionAccuracy);
        foreach (int severity in new[] { 1, 2, 3, 4, 5 })
            Add($"corruption severity {severity}", corruptions.Scores.Where(s => s.Severity == severity).Average(s => s.Accuracy));
        foreach (var kind in Enum.GetValues<CorruptionKind>())
            Add($"corruption {kind}", corruptions.Scores.Where(s => s.Kind == kind).Average(s => s.Accuracy));

        foreach (var style in RobustnessEvaluation.StyleShift(mlContext, features, trainScenes, testOptions, 500))
            Add($"style {style.Style}", style.Accuracy);
        featurizer.Backbone.Dispose();
    }
}

WriteReport();
Console.WriteLine($"Report written to {Path.GetFullPath(output)} in {clock.Elapsed.TotalMinutes:F1} min.");

void WriteReport()
{
    string Cell(List<double> values) => values.Count == 1 ? $"{values[0]:F3}" : $"{values.Average():F3} ± {Std(values):F3}";
    var names = featurizers.Select(f => f.Name).ToList();
    var metrics = results[names[0]].Keys.ToList();
    var report = new StringBuilder();
    report.AppendLine("# SpatialScenes benchmark report");
    report.AppendLine();
    report.AppendLine($"SpatialScenes {imageSize}×{imageSize}, 8 classes; {trainCount} training and {testCount} test images per seed; " +
                      $"seeds 1–{seeds} (scenes, initialisation, training); small ResNet (width 16); {epochs} epochs of pretraining, " +
                      $"batch 64, SP λ = 4; {Environment.ProcessorCount} CPU cores; {clock.Elapsed.TotalMinutes:F1} min. " +
                      (seeds > 1 ? "Cells are mean ± standard deviation over seeds." : "One seed: single values, no spread."));
    report.AppendLine();
    report.AppendLine("| metric | " + string.Join(" | ", names) + " | Δ SP (SimCLR + SP − SimCLR) |");
    report.AppendLine("|---|" + string.Concat(names.Select(_ => "---|")) + "---|");
    foreach (var metric in metrics)
    {
        double delta = results["SimCLR + SP"][metric].Average() - results["SimCLR"][metric].Average();
        report.AppendLine($"| {metric} | " + string.Join(" | ", names.Select(n => Cell(results[n][metric]))) + $" | {delta:+0.000;-0.000} |");
    }
    report.AppendLine();
    report.AppendLine("Lower is better for depth RMSE and AbsRel; higher for everything else.");
    report.AppendLine();
    report.AppendLine("![probes](probes.png)");
    report.AppendLine();
    report.AppendLine("![corruptions](corruptions.png)");
    File.WriteAllText(Path.Combine(output, "report.md"), report.ToString());

    string[] probeMetrics = { "linear probe", "k-NN top-1", "patch-pair mean R²", "jigsaw 2×2 tile acc.", "segmentation mIoU", "depth δ<1.25" };
    Charts.Bars(Path.Combine(output, "probes.png"), "Frozen-feature evaluations (higher is better)", probeMetrics,
        names.Select(n => (n, probeMetrics.Select(m => results[n][m].Average()).ToArray())).ToList());
    Charts.Lines(Path.Combine(output, "corruptions.png"), "Linear-probe accuracy under corruption", "severity",
        names.Select(n => (n, new[] { results[n]["clean accuracy"].Average() }
            .Concat(Enumerable.Range(1, 5).Select(s => results[n][$"corruption severity {s}"].Average())).ToArray())).ToList());
}

static double Std(List<double> values)
{
    double mean = values.Average();
    return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, values.Count - 1));
}

int Arg(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

string ArgText(string name, string fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
