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
        "fashion" or "icons" or "clipart" => new PreparedSetRun(name, config, seed),
        _ => throw new ArgumentException($"Unknown dataset '{name}' in the configuration: use \"scenes\", \"emoji\", \"fashion\", \"icons\" or \"clipart\"."),
    };

    /// <summary>The training images as a view for SpatialPretrain.</summary>
    protected abstract IDataView TrainingView();

    /// <summary>The training images drawn over photographs (<see cref="FeaturizerConfig.TrainingBackground"/> "photos").</summary>
    protected virtual IDataView TrainingViewOnPhotos()
        => throw new ArgumentException($"trainingBackground \"photos\" is offered for the emoji only, not for {GetType().Name}.");

    private IDataView TrainingViewFor(FeaturizerConfig featurizer) => featurizer.TrainingBackground switch
    {
        null or "black" => TrainingView(),
        "photos" => TrainingViewOnPhotos(),
        var other => throw new ArgumentException($"Unknown trainingBackground '{other}' in the configuration of '{featurizer.Name}': use \"black\" or \"photos\"."),
    };

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
            EvaluateWith(pipeline.Fit(TrainingView()), null, metrics, featurizerConfig.Pooling);
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
        if (f.FeaturizationPrecision is { } precision) options.Runtime.FeaturizationPrecision = precision;
        if (f.TrainingPrecision is { } trainingPrecision) options.Runtime.TrainingPrecision = trainingPrecision;
        if (f.MaxOverlap is float overlap) options.SpatialPrediction.ViewPairs = options.SpatialPrediction.ViewPairs with { MaxIoU = overlap };
        if (f.MinGap is float gap) options.SpatialPrediction.ViewPairs = options.SpatialPrediction.ViewPairs with { MinGap = gap };
        if (f.WarmupFraction is double warmup) options.Optimizer.WarmupFraction = warmup;
        if (f.ClipGradientPerPart is bool perPart) options.Optimizer.ClipGradientPerPart = perPart;
        if (f.GradientClipNorm is double clip) options.Optimizer.GradientClipNorm = clip;
        if ((f.LearningRate ?? Config.LearningRate) is double rate) options.LearningRate = rate;
        var featurizer = MLContext.Transforms.SpatialPretrain(options).Fit(TrainingViewFor(f));
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
            if (f.Pooling == "both")
            {
                EvaluateWith(featurizer, featurizer, metrics, "global");
                metrics.NameSuffix = " (pyramid)";
                try { EvaluateWith(featurizer, featurizer, metrics, "pyramid"); }
                finally { metrics.NameSuffix = ""; }
            }
            else EvaluateWith(featurizer, featurizer, metrics, f.Pooling);
        }
        finally
        {
            featurizer.Backbone.Dispose();
        }
    }

    private void EvaluateWith(ITransformer transformer, SpatialFeaturizerTransformer? ours, MetricSet metrics, string? pooling)
    {
        var features = pooling switch
        {
            null or "global" => transformer.AsImageFeaturizer(),
            // The same backbone read by the library's SpatialPyramid, so one training gives both readings.
            "pyramid" when ours is not null => MLContext.Transforms.SpatialFeaturize(ours.Backbone, new SpatialFeaturizeOptions
            {
                SpatialPyramid = true, Resizing = ours.Resizing, Precision = ours.Precision, BatchSize = ours.BatchSize,
            }).Fit(TrainingView()).AsImageFeaturizer(),
            _ => throw new ArgumentException($"Unknown pooling '{pooling}' in the configuration: use \"global\" or \"pyramid\" (not with a reference featuriser)."),
        };
        var trainFeatures = features(TrainImages);
        var testFeatures = features(TestImages);
        metrics.Add("linear probe", SpatialEvaluation.LinearProbe(MLContext, trainFeatures, TrainLabels, testFeatures, TestLabels).MicroAccuracy);
        var standardized = Config.StandardizedProbes ? StandardizedLinearProbe.Fit(MLContext, trainFeatures, TrainLabels, seed: Seed) : null;
        if (standardized is not null) metrics.Add("linear probe (z-scored, CV L2)", standardized.Evaluate(testFeatures, TestLabels).MicroAccuracy);
        var knn = SpatialEvaluation.KnnProbe(trainFeatures, TrainLabels, testFeatures, TestLabels);
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
        var report = SpatialEvaluation.PatchPairTest(features, images, options);
        foreach (var target in report.Targets) metrics.Add($"{prefix}patch-pair R² {target.Target}", target.RSquared);
        metrics.Add($"{prefix}patch-pair mean R²", report.MeanRSquared);
        // The featuriser enlarges the patches to its input side; SP trained on them at their own side, so read them there too.
        if (ours is not null)
            metrics.Add($"{prefix}patch-pair mean R² (patches at {options.PatchResolution} px)",
                SpatialEvaluation.PatchPairTest(ours.Backbone.AsImageFeaturizer(options.PatchResolution), images, options).MeanRSquared);
        // The same test with pairs unlike SP's training pairs (smaller views, more overlap allowed, another resolution),
        // so it measures spatial awareness rather than fit to the pretext.
        var heldOut = SpatialEvaluation.PatchPairTest(features, images, new PatchPairOptions
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
            var jigsaw = SpatialEvaluation.JigsawTest(MLContext, features, TestImages.Take(count).ToList(), TestLabels.Take(count).ToList(),
                new JigsawOptions { Grid = grid, TileResolution = Config.ImageSize / 2, Seed = Seed });
            metrics.Add($"jigsaw {grid}×{grid} tile acc.", jigsaw.TileAccuracy);
            metrics.Add($"jigsaw {grid}×{grid} exact perm.", jigsaw.PermutationAccuracy);
            metrics.Add($"jigsaw {grid}×{grid} original", jigsaw.OriginalAccuracy);
            metrics.Add($"jigsaw {grid}×{grid} shuffled", jigsaw.ShuffledAccuracy);
            metrics.Add($"jigsaw {grid}×{grid} reconstructed", jigsaw.ReconstructedAccuracy);
        }
    }

    /// <summary>
    /// A style shift: the probes fitted on the training features, tested on <paramref name="shifted"/>'s pictures
    /// (labelled by the training split's class names).
    /// </summary>
    protected void StyleShift(string style, ImageDataset shifted, IReadOnlyList<string> classes, ImageFeaturizer features,
        float[][] trainFeatures, StandardizedLinearProbe? standardized, MetricSet metrics)
    {
        var images = shifted.Entries.Select(e => ImageDataset.Decode(e.Path)).ToList();
        try
        {
            var shiftedFeatures = features(images);
            var labels = shifted.Entries.Select(e => PreparedSplit.LabelOf(classes, e)).ToList();
            metrics.Add($"style shift ({style})", SpatialEvaluation.LinearProbe(MLContext, trainFeatures, TrainLabels, shiftedFeatures, labels).MicroAccuracy);
            if (standardized is not null)
                metrics.Add($"style shift ({style}) (z-scored, CV L2)", standardized.Evaluate(shiftedFeatures, labels).MicroAccuracy);
        }
        finally
        {
            foreach (var image in images) image.Dispose();
        }
    }

    /// <summary>
    /// Every corruption at <paramref name="severities"/> on the first 500 evaluation pictures, probe fitted on the clean
    /// training pictures: the clean accuracy when <paramref name="withClean"/>, the mean, each severity and, when
    /// <paramref name="perKind"/>, each corruption.
    /// </summary>
    protected void Corruptions(ImageFeaturizer features, IReadOnlyList<int> severities, bool perKind, MetricSet metrics, bool withClean = false)
    {
        var corruptions = SpatialEvaluation.CorruptionRobustness(MLContext, features, TrainImages, TrainLabels,
            TestImages.Take(500).ToList(), TestLabels.Take(500).ToList(), seed: Seed, severities: severities);
        if (withClean) metrics.Add("clean accuracy", corruptions.CleanAccuracy);
        metrics.Add("mean corruption accuracy", corruptions.MeanCorruptionAccuracy);
        foreach (int severity in severities)
            metrics.Add($"corruption severity {severity}", corruptions.Scores.Where(s => s.Severity == severity).Average(s => s.Accuracy));
        if (!perKind) return;
        foreach (var kind in Enum.GetValues<CorruptionKind>())
            metrics.Add($"corruption {kind}", corruptions.Scores.Where(s => s.Kind == kind).Average(s => s.Accuracy));
    }

    public virtual void Dispose()
    {
        foreach (var image in TrainImages.Concat(TestImages)) image.Dispose();
    }
}
