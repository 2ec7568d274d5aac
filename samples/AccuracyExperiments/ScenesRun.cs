namespace AccuracyExperiments;

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
        var dense = featurizer.AsDenseFeaturizer();
        var segmentation = SpatialEvaluation.SegmentationProbe(MLContext, dense, trainScenes.Take(400).ToList(), testScenes.Take(200).ToList());
        metrics.Add("segmentation mIoU", segmentation.MeanIoU);
        metrics.Add("segmentation pixel acc.", segmentation.PixelAccuracy);
        var depth = SpatialEvaluation.DepthProbe(MLContext, dense, trainScenes.Take(400).ToList(), testScenes.Take(200).ToList());
        metrics.Add("depth RMSE", depth.Rmse);
        metrics.Add("depth AbsRel", depth.AbsRel);
        metrics.Add("depth δ<1.25", depth.Delta125);
        Corruptions(features, SpatialEvaluation.CorruptionSeverities, perKind: true, metrics, withClean: true);
        foreach (var (style, accuracy) in SpatialEvaluation.StyleShift(MLContext, features, trainScenes, testOptions, 500))
            metrics.Add($"style {style}", accuracy);
    }
}
