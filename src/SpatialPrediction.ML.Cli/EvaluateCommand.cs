using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Evaluation;
using SpatialPrediction.ML.Reporting;

namespace SpatialPrediction.ML.Cli;

/// <summary><c>evaluate --model model.zip --train DIR|CSV --test DIR|CSV [--backgrounds DIR|CSV] [--corruptions] [--out report.md]</c>.</summary>
internal static class EvaluateCommand
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("evaluate",
            "Frozen-feature evaluations: linear probe and k-NN (fitted on --train, scored on --test), the patch-pair spatial " +
            "test (R² of relative position and scale from pairs of patches of the test images), the 2×2 jigsaw test and, with " +
            "--backgrounds, the localisation probe (the test images pasted onto those pictures; R² and IoU of the object's box " +
            "predicted from the features of held-out images) and foreground segmentation (mIoU of a per-location probe on the " +
            "feature map against the pasted images' masks) and, with --corruptions, the linear probe's accuracy on the test " +
            "images under six corruptions (noise, blur, contrast, JPEG, brightness, occlusion) at severities 1, 3 and 5. " +
            "Prints a Markdown table; with --out, writes it there with a bar chart next to it (same name, .png).");
        var model = CliApp.Required(command, "model", "model.zip", "An ML.NET model zip holding a SpatialPrediction featuriser.");
        var train = CliApp.Required(command, "train", "folder|file.csv", "Labelled images the probes are fitted on.");
        var test = CliApp.Required(command, "test", "folder|file.csv", "Labelled images the probes are scored on.");
        var outPath = new Option<string>("--out") { HelpName = "report.md", Description = "Write the report here, and its chart next to it." };
        var backgrounds = new Option<string>("--backgrounds")
        {
            HelpName = "folder|file.csv",
            Description = "Pictures (photographs) to paste the test images onto for the localisation probe; the test images should have " +
                          "transparency (drawings, icons). Every image file under the folder, or the paths of the CSV's first column.",
        };
        var corruptions = new Option<bool>("--corruptions")
        {
            Description = "Also score the linear probe (fitted on clean --train images) on corrupted copies of the --test images.",
        };
        var skip = ImageSource.SkipOption();
        command.Options.Add(backgrounds);
        command.Options.Add(corruptions);
        command.Options.Add(outPath);
        command.Options.Add(skip);
        command.SetAction(result => Run(output, result.GetValue(model)!, result.GetValue(train)!, result.GetValue(test)!, result.GetValue(outPath), result.GetValue(backgrounds), result.GetValue(corruptions), result.GetValue(skip)));
        return command;
    }

    private static int Run(TextWriter output, string modelPath, string trainPath, string testPath, string? outPath, string? backgroundsPath, bool corruptions, bool skipUnreadable)
    {
        var backgroundFiles = backgroundsPath is null ? null : BackgroundFiles(backgroundsPath);
        var mlContext = new MLContext(1);
        var model = ModelFile.Load(mlContext, modelPath);
        var features = model.AsImageFeaturizer();
        var train = ImageSource.OpenReadable(trainPath, skipUnreadable, output);
        var test = ImageSource.OpenReadable(testPath, skipUnreadable, output);
        var classes = train.ClassNames.ToList();
        var unknown = test.Entries.FirstOrDefault(e => !classes.Contains(e.Label));
        if (unknown is not null) throw new InvalidDataException($"{unknown.Path}: label '{unknown.Label}' does not occur in the training set.");

        var trainImages = train.Entries.Select(e => ImageDataset.Decode(e.Path)).ToList();
        var testImages = test.Entries.Select(e => ImageDataset.Decode(e.Path)).ToList();
        try
        {
            var trainLabels = train.Entries.Select(e => classes.IndexOf(e.Label)).ToList();
            var testLabels = test.Entries.Select(e => classes.IndexOf(e.Label)).ToList();
            var trainFeatures = features(trainImages);
            var testFeatures = features(testImages);
            var rows = new List<(string, double)>
            {
                ("linear probe accuracy", SpatialEvaluation.LinearProbe(mlContext, trainFeatures, trainLabels, testFeatures, testLabels).MicroAccuracy),
            };
            var knn = SpatialEvaluation.KnnProbe(trainFeatures, trainLabels, testFeatures, testLabels);
            rows.Add(("k-NN top-1", knn.Top1));
            rows.Add(("k-NN top-5", knn.Top5));
            if (testImages.Count >= 4)
            {
                // Folders and CSVs are often sorted by class; the tests split their images in halves, so mix them first.
                var order = Enumerable.Range(0, testImages.Count).ToArray();
                new Random(1).Shuffle(order);
                var mixedImages = order.Select(i => testImages[i]).ToList();
                var pairs = SpatialEvaluation.PatchPairTest(features, mixedImages);
                rows.Add(("patch-pair mean R²", pairs.MeanRSquared));
                foreach (var target in pairs.Targets) rows.Add(($"patch-pair R² {target.Target}", target.RSquared));
                var jigsaw = SpatialEvaluation.JigsawTest(mlContext, features, mixedImages, order.Select(i => testLabels[i]).ToList(), new JigsawOptions { Grid = 2 });
                rows.Add(("jigsaw 2×2 tile accuracy", jigsaw.TileAccuracy));
                rows.Add(("jigsaw 2×2 exact permutation", jigsaw.PermutationAccuracy));
                if (backgroundFiles is not null)
                    rows.AddRange(Localisation(mlContext, features, ModelFile.Featurizer(model, modelPath), train.ToDataView(mlContext), mixedImages, backgroundFiles));
            }
            if (corruptions) rows.AddRange(Corruptions(mlContext, features, trainImages, trainLabels, testImages, testLabels));
            var report = new StringBuilder();
            report.AppendLine($"# Evaluation of {Path.GetFileName(modelPath)}").AppendLine();
            report.AppendLine($"{train.Entries.Count} training and {test.Entries.Count} test images, {classes.Count} classes.").AppendLine();
            report.AppendLine("| metric | value |").AppendLine("|---|---|");
            foreach (var (metric, value) in rows) report.AppendLine($"| {metric} | {value.ToString("F3", CultureInfo.InvariantCulture)} |");
            if (outPath is not null)
            {
                // The chart sits next to the report and is linked from it; R² below 0 is drawn as 0.
                string chart = Path.ChangeExtension(outPath, ".png");
                ResultCharts.Bars(chart, $"{Path.GetFileName(modelPath)}: frozen-feature evaluations", rows.Select(r => r.Item1).ToList(),
                    new[] { (Path.GetFileName(modelPath), rows.Select(r => Math.Max(r.Item2, 0)).ToArray()) });
                report.AppendLine().AppendLine($"![evaluations]({Path.GetFileName(chart)})");
                File.WriteAllText(outPath, report.ToString());
            }
            output.Write(report.ToString());
            return CliApp.Done;
        }
        finally
        {
            foreach (var image in trainImages.Concat(testImages)) image.Dispose();
        }
    }

    private static readonly int[] CorruptionSeverities = { 1, 3, 5 };

    /// <summary>The robustness rows: mean over every corruption and severity, then per severity and per kind.</summary>
    private static IEnumerable<(string, double)> Corruptions(MLContext mlContext, Evaluation.ImageFeaturizer features,
        IReadOnlyList<Microsoft.ML.Data.MLImage> train, IReadOnlyList<int> trainLabels, IReadOnlyList<Microsoft.ML.Data.MLImage> test, IReadOnlyList<int> testLabels)
    {
        var report = SpatialEvaluation.CorruptionRobustness(mlContext, features, train, trainLabels, test, testLabels, severities: CorruptionSeverities);
        return new[] { ("mean corruption accuracy", report.MeanCorruptionAccuracy) }
            .Concat(CorruptionSeverities.Select(s => ($"corruption severity {s}", report.Scores.Where(c => c.Severity == s).Average(c => c.Accuracy))))
            .Concat(Enum.GetValues<CorruptionKind>().Select(k => ($"corruption {k}", report.Scores.Where(c => c.Kind == k).Average(c => c.Accuracy))))
            .ToList();
    }

    /// <summary>
    /// The localisation probe's rows and foreground segmentation's: the test images pasted onto the backgrounds at the
    /// model's own input side; segmentation fits on the first half of the composites and scores the second.
    /// </summary>
    private static IEnumerable<(string, double)> Localisation(MLContext mlContext, Evaluation.ImageFeaturizer features, SpatialFeaturizerTransformer featurizer,
        IDataView fitView, IReadOnlyList<Microsoft.ML.Data.MLImage> objects, IReadOnlyList<string> backgroundFiles)
    {
        var backgrounds = backgroundFiles.Select(ImageDataset.Decode).ToList();
        var options = new ObjectCompositeOptions { Side = featurizer.Backbone.ImageSize };
        List<ObjectComposite>? composites = null;
        try
        {
            var report = SpatialEvaluation.LocalizationProbe(features, objects, backgrounds, new LocalizationOptions { Composites = options, CompositesPerObject = 2 });
            var rows = new List<(string, double)> { ("localisation mean R²", report.MeanRSquared), ("localisation IoU", report.MeanIntersectionOverUnion) };
            rows.AddRange(report.Targets.Select(t => ($"localisation R² {t.Target}", t.RSquared)));
            composites = SpatialEvaluation.ObjectComposites(objects, backgrounds, 1, options with { Seed = options.Seed + 1 }).ToList();
            var maps = mlContext.Transforms.SpatialFeaturize(featurizer.Backbone, new SpatialFeaturizeOptions { FeatureMapColumnName = "FeatureMap" }).Fit(fitView);
            int half = composites.Count / 2;
            var segmentation = SpatialEvaluation.ForegroundSegmentationProbe(mlContext, maps.AsDenseFeaturizer(), composites.Take(half).ToList(), composites.Skip(half).ToList());
            rows.Add(("foreground mIoU", segmentation.MeanIoU));
            return rows;
        }
        finally
        {
            foreach (var composite in composites ?? new List<ObjectComposite>()) composite.Image.Dispose();
            foreach (var background in backgrounds) background.Dispose();
        }
    }

    /// <summary>Every image file under a folder, or the first column of a CSV; an error names the path when there are none.</summary>
    private static IReadOnlyList<string> BackgroundFiles(string path)
    {
        List<string> files;
        if (Directory.Exists(path))
            files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                .Where(f => ImageDataset.ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal).ToList();
        else if (File.Exists(path) && path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
            files = ImageDataset.FromCsv(path).Entries.Select(e => e.Path).ToList();
        else
            throw new UsageException($"--backgrounds {path}: no such folder or .csv file.");
        return files.Count > 0 ? files : throw new UsageException($"--backgrounds {path}: no image files ({string.Join(" ", ImageDataset.ImageExtensions)}) in it.");
    }
}
