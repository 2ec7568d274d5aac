using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Evaluation;

namespace AccuracyExperiments;

/// <summary>One dataset for one seed: its images and labels, how featurisers are trained on it, what is evaluated.</summary>
internal abstract class DatasetRun : IDisposable
{
    protected DatasetRun(MLContext mlContext, ExperimentConfig config, int seed)
    {
        MLContext = mlContext;
        Config = config;
        Seed = seed;
    }

    protected MLContext MLContext { get; }
    protected ExperimentConfig Config { get; }
    protected int Seed { get; }
    protected List<MLImage> TrainImages { get; } = new();
    protected List<MLImage> TestImages { get; } = new();
    protected List<int> TrainLabels { get; } = new();
    protected List<int> TestLabels { get; } = new();

    public static DatasetRun Create(string name, ExperimentConfig config, int seed) => name switch
    {
        "scenes" => new ScenesRun(config, seed),
        "emoji" => new EmojiRun(config, seed),
        "fashion" or "icons" => new PreparedSetRun(name, config, seed),
        _ => throw new ArgumentException($"Unknown dataset '{name}' in the configuration: use \"scenes\", \"emoji\", \"fashion\" or \"icons\"."),
    };

    /// <summary>The training images as a view for SpatialPretrain.</summary>
    protected abstract IDataView TrainingView();

    /// <summary>
    /// Trains the featuriser (or builds the reference one) and records every evaluation of this dataset; the training
    /// checkpoints to <paramref name="checkpointDirectory"/> and resumes from a checkpoint it finds there.
    /// </summary>
    public void Evaluate(FeaturizerConfig featurizerConfig, MetricSet metrics, string? checkpointDirectory = null)
    {
        if (featurizerConfig.Reference is { } reference)
        {
            if (reference != "DnnFeaturizeImage")
                throw new ArgumentException($"Unknown reference featuriser '{reference}' in the configuration: use \"DnnFeaturizeImage\".");
            // ML.NET's own ImageNet ResNet-18 featuriser, as its documentation builds it: 224 px, pixels 0–255.
            var pipeline = MLContext.Transforms.ResizeImages("Resized", 224, 224, "Image", Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind.Fill)
                .Append(MLContext.Transforms.ExtractPixels("Pixels", "Resized"))
                .Append(MLContext.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(MLContext, m.OutputColumn, m.InputColumn), "Pixels"));
            EvaluateWith(pipeline.Fit(TrainingView()), null, metrics);
            return;
        }
        using var initial = Config.InitialBackbone switch
        {
            null => null,
            "ImageNetResNet18" => SpatialBackbone.ImageNetResNet18(),
            var other => throw new ArgumentException($"Unknown initial backbone '{other}' in the configuration: use \"ImageNetResNet18\" or leave it out."),
        };
        var f = featurizerConfig;
        int imageSize = f.ImageSize ?? Config.ImageSize;
        var options = new SpatialPretrainOptions
        {
            Framework = f.Framework,
            Backbone = Config.Backbone,
            InitialBackbone = initial,
            ImageSize = imageSize,
            FeaturizationImageSize = f.FeaturizationImageSize ?? 0,
            FrozenStages = f.FrozenStages ?? 0,
            StartingPointPenalty = f.StartingPointPenalty ?? 0,
            FreezeBatchNormStatistics = f.FreezeBatchNormStatistics ?? false,
            RecalibrateBatchNorm = f.RecalibrateBatchNorm ?? false,
            BackboneWidth = Config.BackboneWidth,
            Epochs = f.Epochs ?? Config.Epochs,
            BatchSize = f.BatchSize ?? Config.BatchSize,
            Seed = Seed,
            CheckpointDirectory = checkpointDirectory,
            FeatureMapColumnName = "FeatureMap",
            SpatialPrediction = new SpatialPredictionOptions
            {
                Enabled = f.SpatialPrediction, Weight = f.SpatialWeight ?? Config.SpatialWeight, LocalResolution = f.LocalResolution ?? imageSize / 2,
                WeightWarmupFraction = f.SpatialWarmup ?? 0, BackboneGradientScale = f.SpatialGradientScale ?? 1f,
                ProjectorWidth = f.SpatialProjectorWidth ?? 0, DetailResolution = f.SpatialDetailResolution ?? 0,
                UpdateBatchNormStatistics = f.SpatialUpdatesBatchNormStatistics ?? true, PredictBothDirections = f.SpatialBothDirections ?? false,
                OnHostViews = f.SpatialOnHostViews ?? false,
            },
        };
        if (f.FeaturizationPrecision is { } precision) options.FeaturizationPrecision = precision;
        if (f.TrainingPrecision is { } trainingPrecision) options.TrainingPrecision = trainingPrecision;
        if (f.MaxOverlap is float overlap) options.SpatialPrediction.MaxOverlap = overlap;
        if (f.MinGap is float gap) options.SpatialPrediction.MinGap = gap;
        if (f.WarmupFraction is double warmup) options.WarmupFraction = warmup;
        if (f.ClipGradientPerPart is bool perPart) options.ClipGradientPerPart = perPart;
        if (f.GradientClipNorm is double clip) options.GradientClipNorm = clip;
        if ((f.LearningRate ?? Config.LearningRate) is double rate) options.LearningRate = rate;
        var featurizer = MLContext.Transforms.SpatialPretrain(options).Fit(TrainingView());
        try
        {
            var history = featurizer.TrainingHistory!;
            metrics.Add("pretraining time (s)", history.Elapsed.TotalSeconds);
            if (history.Steps.Count > 0)
            {
                metrics.Add("share of steps clipped", history.ClippedStepShare);
                if (double.IsFinite(history.MedianSpatialToHostGradientRatio))
                    metrics.Add("median ‖∇λ·SP‖ / ‖∇host‖ (backbone)", history.MedianSpatialToHostGradientRatio);
            }
            EvaluateWith(featurizer, featurizer, metrics);
        }
        finally
        {
            featurizer.Backbone.Dispose();
        }
    }

    private void EvaluateWith(ITransformer transformer, SpatialFeaturizerTransformer? ours, MetricSet metrics)
    {
        var features = ImageFeaturizers.FromTransformer(transformer);
        var trainFeatures = features(TrainImages);
        var testFeatures = features(TestImages);
        metrics.Add("linear probe", LinearProbe.Evaluate(MLContext, trainFeatures, TrainLabels, testFeatures, TestLabels).MicroAccuracy);
        var standardized = Config.StandardizedProbes ? StandardizedLinearProbe.Fit(MLContext, trainFeatures, TrainLabels, seed: Seed) : null;
        if (standardized is not null) metrics.Add("linear probe (z-scored, CV L2)", standardized.Evaluate(testFeatures, TestLabels).MicroAccuracy);
        var knn = KnnProbe.Evaluate(trainFeatures, TrainLabels, testFeatures, TestLabels);
        metrics.Add("k-NN top-1", knn.Top1);
        metrics.Add("k-NN top-5", knn.Top5);
        EvaluateMore(ours, features, trainFeatures, testFeatures, standardized, metrics);
    }

    /// <summary>
    /// The dataset's other evaluations; <paramref name="featurizer"/> is null for a reference featuriser (no feature
    /// map); <paramref name="standardized"/> is the z-scored probe fitted on the training features (null when off).
    /// </summary>
    protected abstract void EvaluateMore(SpatialFeaturizerTransformer? featurizer, ImageFeaturizer features,
        float[][] trainFeatures, float[][] testFeatures, StandardizedLinearProbe? standardized, MetricSet metrics);

    protected void PatchPairs(string prefix, ImageFeaturizer features, IReadOnlyList<MLImage> images, int pairsPerImage, MetricSet metrics,
        SpatialFeaturizerTransformer? ours = null)
    {
        var options = new PatchPairOptions { PatchResolution = Config.ImageSize / 2, PairsPerImage = pairsPerImage, Seed = Seed };
        var report = PatchPairSpatialTest.Evaluate(features, images, options);
        foreach (var target in report.Targets) metrics.Add($"{prefix}patch-pair R² {target.Target}", target.RSquared);
        metrics.Add($"{prefix}patch-pair mean R²", report.MeanRSquared);
        // The featuriser enlarges the patches to its input side; SP trained on them at their own side, so read them there too.
        if (ours is not null)
            metrics.Add($"{prefix}patch-pair mean R² (patches at {options.PatchResolution} px)",
                PatchPairSpatialTest.Evaluate(ImageFeaturizers.AtSide(ours.Backbone, options.PatchResolution), images, options).MeanRSquared);
        // The same test with pairs unlike SP's training pairs (smaller views, more overlap allowed, another resolution),
        // so it measures spatial awareness rather than fit to the pretext.
        var heldOut = PatchPairSpatialTest.Evaluate(features, images, new PatchPairOptions
        {
            PatchResolution = Config.ImageSize * 3 / 4, PairsPerImage = pairsPerImage, Seed = Seed,
            Sampler = new SpatialPrediction.ML.Spatial.SpatialViewPairSampler { MinArea = 0.03f, MaxArea = 0.12f, MaxIoU = 0.6f, MirrorProbability = 0 },
        });
        metrics.Add($"{prefix}patch-pair mean R² (held-out sampler)", heldOut.MeanRSquared);
    }

    protected void Jigsaw(ImageFeaturizer features, int count, MetricSet metrics, params int[] grids)
    {
        foreach (int grid in grids)
        {
            var jigsaw = JigsawTest.Evaluate(MLContext, features, TestImages.Take(count).ToList(), TestLabels.Take(count).ToList(),
                new JigsawOptions { Grid = grid, TileResolution = Config.ImageSize / 2, Seed = Seed });
            metrics.Add($"jigsaw {grid}×{grid} tile acc.", jigsaw.TileAccuracy);
            metrics.Add($"jigsaw {grid}×{grid} exact perm.", jigsaw.PermutationAccuracy);
            metrics.Add($"jigsaw {grid}×{grid} original", jigsaw.OriginalAccuracy);
            metrics.Add($"jigsaw {grid}×{grid} shuffled", jigsaw.ShuffledAccuracy);
            metrics.Add($"jigsaw {grid}×{grid} reconstructed", jigsaw.ReconstructedAccuracy);
        }
    }

    public virtual void Dispose()
    {
        foreach (var image in TrainImages.Concat(TestImages)) image.Dispose();
    }
}

/// <summary>SpatialScenes: recognition, both spatial tests, dense probes, corruptions and style shift.</summary>
internal sealed class ScenesRun : DatasetRun
{
    private readonly IReadOnlyList<SceneImage> trainScenes, testScenes;
    private readonly SpatialScenesOptions testOptions;

    public ScenesRun(ExperimentConfig config, int seed) : base(new MLContext(seed), config, seed)
    {
        trainScenes = SpatialScenes.Generate(config.TrainImages, new SpatialScenesOptions { ImageSize = config.ImageSize, Seed = seed });
        testOptions = new SpatialScenesOptions { ImageSize = config.ImageSize, Seed = 1000 + seed };
        testScenes = SpatialScenes.Generate(config.TestImages, testOptions);
        TrainImages.AddRange(trainScenes.Select(SpatialScenes.ToMLImage));
        TestImages.AddRange(testScenes.Select(SpatialScenes.ToMLImage));
        TrainLabels.AddRange(trainScenes.Select(s => s.Label));
        TestLabels.AddRange(testScenes.Select(s => s.Label));
    }

    protected override IDataView TrainingView() => SpatialScenes.ToDataView(MLContext, trainScenes);

    protected override void EvaluateMore(SpatialFeaturizerTransformer? featurizer, ImageFeaturizer features,
        float[][] trainFeatures, float[][] testFeatures, StandardizedLinearProbe? standardized, MetricSet metrics)
    {
        if (Config.SpatialTests)
        {
            PatchPairs("", features, TestImages.Take(200).ToList(), 8, metrics, featurizer);
            Jigsaw(features, 300, metrics, 2, 3);
        }
        if (featurizer is null) return; // the dense probes and robustness below need our feature map
        var dense = DenseFeaturizers.FromTransformer(featurizer);
        var segmentation = DenseProbe.Segmentation(MLContext, dense, trainScenes.Take(400).ToList(), testScenes.Take(200).ToList());
        metrics.Add("segmentation mIoU", segmentation.MeanIoU);
        metrics.Add("segmentation pixel acc.", segmentation.PixelAccuracy);
        var depth = DenseProbe.Depth(MLContext, dense, trainScenes.Take(400).ToList(), testScenes.Take(200).ToList());
        metrics.Add("depth RMSE", depth.Rmse);
        metrics.Add("depth AbsRel", depth.AbsRel);
        metrics.Add("depth δ<1.25", depth.Delta125);
        var corruptions = RobustnessEvaluation.Corruptions(MLContext, features, TrainImages, TrainLabels,
            TestImages.Take(500).ToList(), TestLabels.Take(500).ToList(), seed: Seed);
        metrics.Add("clean accuracy", corruptions.CleanAccuracy);
        metrics.Add("mean corruption accuracy", corruptions.MeanCorruptionAccuracy);
        foreach (int severity in ImageCorruption.Severities)
            metrics.Add($"corruption severity {severity}", corruptions.Scores.Where(s => s.Severity == severity).Average(s => s.Accuracy));
        foreach (var kind in Enum.GetValues<CorruptionKind>())
            metrics.Add($"corruption {kind}", corruptions.Scores.Where(s => s.Kind == kind).Average(s => s.Accuracy));
        foreach (var style in RobustnessEvaluation.StyleShift(MLContext, features, trainScenes, testOptions, 500))
            metrics.Add($"style {style.Style}", style.Accuracy);
    }
}

/// <summary>
/// The emoji sets prepared by samples/PrepareData: train on Google's drawings, test recognition (9 categories),
/// fine-grained recognition (subcategories), style shift to Twitter's and OpenMoji's drawings of the same test emoji, spatial tests on
/// emoji and, when prepared, on the Debian photographs.
/// </summary>
internal sealed class EmojiRun : DatasetRun
{
    private readonly ImageDataset train;
    private readonly string folder;

    public EmojiRun(ExperimentConfig config, int seed) : base(new MLContext(seed), config, seed)
    {
        folder = Path.Combine(config.ResolvedDataFolder, "emoji");
        string trainCsv = Path.Combine(folder, "google-category-train.csv");
        if (!File.Exists(trainCsv))
            throw new FileNotFoundException($"{trainCsv} not found: prepare the emoji sets first with " +
                                            "'dotnet run -c Release --project samples/PrepareData -- emoji' (or set dataFolder).", trainCsv);
        validation = config.Split switch
        {
            "test" => false,
            "validation" => true,
            var other => throw new ArgumentException($"Unknown split '{other}' in the configuration: use \"test\" or \"validation\"."),
        };
        train = Part(trainCsv, heldOut: false);
        var test = validation ? Part(trainCsv, heldOut: true) : ImageDataset.FromCsv(Path.Combine(folder, "google-category-test.csv"));
        Load(train, train.ClassNames, TrainImages, TrainLabels);
        Load(test, train.ClassNames, TestImages, TestLabels);
    }

    private readonly bool validation;

    private static readonly int[] EmojiCorruptionSeverities = { 1, 3, 5 };

    /// <summary>
    /// The validation split: one in five training emoji, chosen by a hash of the emoji's code points (U+FE0F ignored, as
    /// the preparation's train/test split does), so it holds the same emoji in every style and never a test emoji.
    /// </summary>
    private static bool IsValidationEmoji(string path)
    {
        string id = Path.GetFileNameWithoutExtension(path).Replace("-fe0f", "", StringComparison.OrdinalIgnoreCase).ToLowerInvariant();
        uint hash = 2166136261;
        foreach (char c in id) hash = (hash ^ c) * 16777619;
        return hash % 5 == 2;
    }

    /// <summary>A training CSV: all of it ("test" split) or its training / held-out part ("validation" split).</summary>
    private ImageDataset Part(string csv, bool heldOut)
    {
        var all = ImageDataset.FromCsv(csv);
        return validation ? new ImageDataset(all.Entries.Where(e => IsValidationEmoji(e.Path) == heldOut).ToList()) : all;
    }

    /// <summary>The evaluation rows of <paramref name="stem"/> (e.g. "twitter-category"): its test CSV, or on the validation split the held-out part of its training CSV.</summary>
    private ImageDataset EvaluationSet(string stem)
        => validation ? Part(Path.Combine(folder, $"{stem}-train.csv"), heldOut: true) : ImageDataset.FromCsv(Path.Combine(folder, $"{stem}-test.csv"));

    private static void Load(ImageDataset set, IReadOnlyList<string> classes, List<MLImage> images, List<int> labels)
    {
        foreach (var entry in set.Entries)
        {
            images.Add(ImageDataset.Decode(entry.Path));
            labels.Add(IndexOf(classes, entry.Label, entry.Path));
        }
    }

    private static int IndexOf(IReadOnlyList<string> classes, string label, string path)
    {
        int index = classes.ToList().IndexOf(label);
        return index >= 0 ? index : throw new InvalidDataException($"{path}: label '{label}' does not occur in the training split.");
    }

    protected override IDataView TrainingView() => train.ToDataView(MLContext);

    protected override void EvaluateMore(SpatialFeaturizerTransformer? featurizer, ImageFeaturizer features,
        float[][] trainFeatures, float[][] testFeatures, StandardizedLinearProbe? standardized, MetricSet metrics)
    {
        // Fine-grained: the same images, labelled by subcategory (same split files, same order of rows).
        var fineTrain = Part(Path.Combine(folder, "google-subcategory-train.csv"), heldOut: false);
        var fineTest = EvaluationSet("google-subcategory");
        var fineClasses = fineTrain.ClassNames;
        var testRows = fineTest.Entries.Select((e, i) => (e, i)).Where(p => fineClasses.Contains(p.e.Label)).ToList();
        var fineTrainLabels = fineTrain.Entries.Select(e => IndexOf(fineClasses, e.Label, e.Path)).ToList();
        var fineTestFeatures = testRows.Select(p => testFeatures[p.i]).ToList();
        var fineTestLabels = testRows.Select(p => IndexOf(fineClasses, p.e.Label, p.e.Path)).ToList();
        metrics.Add("fine-grained linear probe", LinearProbe.Evaluate(MLContext, trainFeatures, fineTrainLabels, fineTestFeatures, fineTestLabels).MicroAccuracy);
        if (standardized is not null)
            metrics.Add("fine-grained (z-scored, CV L2)", StandardizedLinearProbe.Fit(MLContext, trainFeatures, fineTrainLabels, seed: Seed)
                .Evaluate(fineTestFeatures, fineTestLabels).MicroAccuracy);

        // Style shift: probe fitted on Google's drawings, tested on another style's drawings of the same test emoji.
        foreach (var style in new[] { "twitter", "openmoji" })
        {
            if (!File.Exists(Path.Combine(folder, $"{style}-category-test.csv"))) continue;
            var shifted = EvaluationSet($"{style}-category");
            var shiftedImages = shifted.Entries.Select(e => ImageDataset.Decode(e.Path)).ToList();
            try
            {
                var shiftedFeatures = features(shiftedImages);
                var shiftedLabels = shifted.Entries.Select(e => IndexOf(train.ClassNames, e.Label, e.Path)).ToList();
                var probe = LinearProbe.Evaluate(MLContext, trainFeatures, TrainLabels, shiftedFeatures, shiftedLabels);
                metrics.Add($"style shift ({style})", probe.MicroAccuracy);
                if (standardized is not null)
                    metrics.Add($"style shift ({style}) (z-scored, CV L2)", standardized.Evaluate(shiftedFeatures, shiftedLabels).MicroAccuracy);
            }
            finally
            {
                foreach (var image in shiftedImages) image.Dispose();
            }
        }

        if (Config.Corruptions)
        {
            // Three severities of every corruption on the first 500 evaluation emoji, probe fitted on the clean training emoji.
            var corruptions = RobustnessEvaluation.Corruptions(MLContext, features, TrainImages, TrainLabels,
                TestImages.Take(500).ToList(), TestLabels.Take(500).ToList(), seed: Seed, severities: EmojiCorruptionSeverities);
            metrics.Add("mean corruption accuracy", corruptions.MeanCorruptionAccuracy);
            foreach (int severity in EmojiCorruptionSeverities)
                metrics.Add($"corruption severity {severity}", corruptions.Scores.Where(s => s.Severity == severity).Average(s => s.Accuracy));
            foreach (var kind in Enum.GetValues<CorruptionKind>())
                metrics.Add($"corruption {kind}", corruptions.Scores.Where(s => s.Kind == kind).Average(s => s.Accuracy));
        }

        if (!Config.SpatialTests) return;
        PatchPairs("", features, TestImages.Take(200).ToList(), 8, metrics, featurizer);
        Jigsaw(features, 300, metrics, 2);
        string photos = Path.Combine(Config.ResolvedDataFolder, "photos.csv");
        if (File.Exists(photos))
        {
            var images = ImageDataset.FromCsv(photos).Entries.Select(e => ImageDataset.Decode(e.Path)).ToList();
            try
            {
                PatchPairs("photos ", features, images, 32, metrics, featurizer);
                Composites(featurizer, features, images, metrics);
            }
            finally
            {
                foreach (var image in images) image.Dispose();
            }
        }
    }

    /// <summary>
    /// The evaluation emoji pasted onto the photographs: where the object is, from the pooled features (localisation
    /// probe, held-out emoji), and, with our feature map, which locations show it (foreground segmentation).
    /// </summary>
    private void Composites(SpatialFeaturizerTransformer? featurizer, ImageFeaturizer features, IReadOnlyList<MLImage> photos, MetricSet metrics)
    {
        var objects = TestImages.Take(300).ToList();
        var options = new ObjectCompositeOptions { Side = Config.ImageSize, Seed = Seed };
        var localisation = LocalizationProbe.Evaluate(features, objects, photos, new LocalizationOptions { Composites = options, CompositesPerObject = 2 });
        metrics.Add("localisation mean R²", localisation.MeanRSquared);
        foreach (var target in localisation.Targets) metrics.Add($"localisation R² {target.Target}", target.RSquared);
        metrics.Add("localisation IoU", localisation.MeanIntersectionOverUnion);
        if (featurizer is null) return; // segmentation reads our feature map
        var composites = ObjectComposites.Make(objects, photos, 1, options with { Seed = Seed + 1 });
        try
        {
            var segmentation = DenseProbe.ForegroundSegmentation(MLContext, DenseFeaturizers.FromTransformer(featurizer),
                composites.Take(200).ToList(), composites.Skip(200).ToList());
            metrics.Add("foreground mIoU", segmentation.MeanIoU);
        }
        finally
        {
            foreach (var composite in composites) composite.Image.Dispose();
        }
    }
}

/// <summary>
/// A set prepared by samples/PrepareData as CSVs in data/NAME/: NAME-train.csv, NAME-test.csv and, for each style shift,
/// NAME-shift-STYLE-train.csv and -test.csv (Fashion-MNIST: none; the Papirus icons: their 16 px drawings). Recognition,
/// the shifts, corruptions and, when asked, the spatial tests. The validation split holds out one training picture in
/// five by a hash of its file name, so a shift holds out the same pictures.
/// </summary>
internal sealed class PreparedSetRun : DatasetRun
{
    private readonly string name, folder;
    private readonly bool validation;
    private readonly ImageDataset train;
    private static readonly int[] CorruptionSeverities = { 1, 3, 5 };

    public PreparedSetRun(string name, ExperimentConfig config, int seed) : base(new MLContext(seed), config, seed)
    {
        this.name = name;
        folder = Path.Combine(config.ResolvedDataFolder, name);
        string trainCsv = Path.Combine(folder, $"{name}-train.csv");
        if (!File.Exists(trainCsv))
            throw new FileNotFoundException($"{trainCsv} not found: prepare it first with 'dotnet run -c Release --project samples/PrepareData -- {name}' (or set dataFolder).", trainCsv);
        validation = config.Split switch
        {
            "test" => false,
            "validation" => true,
            var other => throw new ArgumentException($"Unknown split '{other}' in the configuration: use \"test\" or \"validation\"."),
        };
        train = Part(trainCsv, heldOut: false);
        var test = Evaluation($"{name}");
        Load(train, TrainImages, TrainLabels);
        Load(test, TestImages, TestLabels);
    }

    private static bool IsValidation(string path)
    {
        uint hash = 2166136261;
        foreach (char c in Path.GetFileNameWithoutExtension(path)) hash = (hash ^ c) * 16777619;
        return hash % 5 == 2;
    }

    private ImageDataset Part(string csv, bool heldOut)
    {
        var all = ImageDataset.FromCsv(csv);
        return validation ? new ImageDataset(all.Entries.Where(e => IsValidation(e.Path) == heldOut).ToList()) : all;
    }

    /// <summary>The evaluation rows of <paramref name="stem"/>: its test CSV, or on the validation split the held-out part of its training CSV.</summary>
    private ImageDataset Evaluation(string stem)
        => validation ? Part(Path.Combine(folder, $"{stem}-train.csv"), heldOut: true) : ImageDataset.FromCsv(Path.Combine(folder, $"{stem}-test.csv"));

    private void Load(ImageDataset set, List<MLImage> images, List<int> labels)
    {
        foreach (var entry in set.Entries)
        {
            images.Add(ImageDataset.Decode(entry.Path));
            labels.Add(Label(entry));
        }
    }

    private int Label(ImageEntry entry)
    {
        int index = train.ClassNames.ToList().IndexOf(entry.Label);
        return index >= 0 ? index : throw new InvalidDataException($"{entry.Path}: label '{entry.Label}' does not occur in the training split.");
    }

    protected override IDataView TrainingView() => train.ToDataView(MLContext);

    protected override void EvaluateMore(SpatialFeaturizerTransformer? featurizer, ImageFeaturizer features,
        float[][] trainFeatures, float[][] testFeatures, StandardizedLinearProbe? standardized, MetricSet metrics)
    {
        string prefix = $"{name}-shift-";
        foreach (string style in Directory.EnumerateFiles(folder, $"{prefix}*-train.csv").Select(f => Path.GetFileName(f)[prefix.Length..^"-train.csv".Length]).Order())
        {
            var shifted = Evaluation($"{name}-shift-{style}");
            var images = shifted.Entries.Select(e => ImageDataset.Decode(e.Path)).ToList();
            try
            {
                var shiftedFeatures = features(images);
                var labels = shifted.Entries.Select(Label).ToList();
                metrics.Add($"style shift ({style})", LinearProbe.Evaluate(MLContext, trainFeatures, TrainLabels, shiftedFeatures, labels).MicroAccuracy);
                if (standardized is not null)
                    metrics.Add($"style shift ({style}) (z-scored, CV L2)", standardized.Evaluate(shiftedFeatures, labels).MicroAccuracy);
            }
            finally
            {
                foreach (var image in images) image.Dispose();
            }
        }
        if (Config.Corruptions)
        {
            var corruptions = RobustnessEvaluation.Corruptions(MLContext, features, TrainImages, TrainLabels,
                TestImages.Take(500).ToList(), TestLabels.Take(500).ToList(), seed: Seed, severities: CorruptionSeverities);
            metrics.Add("mean corruption accuracy", corruptions.MeanCorruptionAccuracy);
            foreach (int severity in CorruptionSeverities)
                metrics.Add($"corruption severity {severity}", corruptions.Scores.Where(s => s.Severity == severity).Average(s => s.Accuracy));
        }
        if (!Config.SpatialTests) return;
        PatchPairs("", features, TestImages.Take(200).ToList(), 8, metrics, featurizer);
        Jigsaw(features, 300, metrics, 2);
    }
}
