namespace AccuracyExperiments;

/// <summary>
/// The emoji sets prepared by samples/PrepareData: train on Google's drawings, test recognition (9 categories),
/// fine-grained recognition (subcategories), style shift to Twitter's and OpenMoji's drawings of the same test emoji, spatial tests on
/// emoji and, when prepared, on the Debian photographs.
/// </summary>
internal sealed class EmojiRun : DatasetRun
{
    private readonly ImageDataset train;
    private readonly PreparedSplit split;
    private readonly string folder;

    private static readonly int[] EmojiCorruptionSeverities = { 1, 3, 5 };

    public EmojiRun(ExperimentConfig config, int seed) : base(new MLContext(seed), config, seed)
    {
        folder = Path.Combine(config.ResolvedDataFolder, "emoji");
        string trainCsv = Path.Combine(folder, "google-category-train.csv");
        if (!File.Exists(trainCsv))
            throw new FileNotFoundException($"{trainCsv} not found: prepare the emoji sets first with " +
                                            "'dotnet run -c Release --project samples/PrepareData -- emoji' (or set dataFolder).", trainCsv);
        // Held out by the emoji's code points (U+FE0F ignored, as the preparation's train/test split does), so the
        // validation split holds the same emoji in every style and never a test emoji.
        split = new PreparedSplit(folder, config.Split,
            path => Path.GetFileNameWithoutExtension(path).Replace("-fe0f", "", StringComparison.OrdinalIgnoreCase).ToLowerInvariant());
        train = split.Part(trainCsv, heldOut: false);
        PreparedSplit.Load(train, train.ClassNames, TrainImages, TrainLabels);
        PreparedSplit.Load(split.Evaluation("google-category"), train.ClassNames, TestImages, TestLabels);
    }

    protected override IDataView TrainingView() => train.ToDataView(MLContext);

    /// <summary>Side of the pictures trained on over photographs: the prepared emoji's own.</summary>
    private const int PhotoBackgroundSide = 64;

    private readonly List<MLImage> onPhotos = new();

    /// <summary>
    /// Each training emoji drawn at full size over a random square of a random photograph (seeded by the run's seed), so
    /// what shows through its transparent pixels varies from picture to picture instead of being black.
    /// </summary>
    protected override IDataView TrainingViewOnPhotos()
    {
        if (onPhotos.Count == 0)
        {
            var photos = LoadPhotos() ?? throw new FileNotFoundException(
                "trainingBackground \"photos\" needs the photographs: 'dotnet run -c Release --project samples/PrepareData -- photos'.");
            try
            {
                var options = new ObjectCompositeOptions { Side = PhotoBackgroundSide, MinScale = 1, MaxScale = 1, Seed = Seed + 7919 };
                onPhotos.AddRange(SpatialEvaluation.ObjectComposites(TrainImages, photos, 1, options).Select(c => c.Image));
            }
            finally
            {
                foreach (var photo in photos) photo.Dispose();
            }
        }
        return MLContext.Data.LoadFromEnumerable(onPhotos.Select(image => new PictureRow { Image = image }).ToList());
    }

    private sealed class PictureRow
    {
        [Microsoft.ML.Transforms.Image.ImageType(PhotoBackgroundSide, PhotoBackgroundSide)]
        public MLImage Image { get; set; } = null!;
    }

    public override void Dispose()
    {
        foreach (var image in onPhotos) image.Dispose();
        base.Dispose();
    }

    /// <summary>The Debian photographs, when prepared; the caller disposes them.</summary>
    private List<MLImage>? LoadPhotos()
    {
        string photos = Path.Combine(Config.ResolvedDataFolder, "photos.csv");
        return File.Exists(photos) ? ImageDataset.FromCsv(photos).Entries.Select(e => ImageDataset.Decode(e.Path)).ToList() : null;
    }

    protected override void EvaluateMore(SpatialFeaturizerTransformer? featurizer, ImageFeaturizer features,
        float[][] trainFeatures, float[][] testFeatures, StandardizedLinearProbe? standardized, MetricSet metrics)
    {
        // Fine-grained: the same images, labelled by subcategory (same split files, same order of rows).
        var fineTrain = split.Part(Path.Combine(folder, "google-subcategory-train.csv"), heldOut: false);
        var fineTest = split.Evaluation("google-subcategory");
        var fineClasses = fineTrain.ClassNames;
        var testRows = fineTest.Entries.Select((e, i) => (e, i)).Where(p => fineClasses.Contains(p.e.Label)).ToList();
        var fineTrainLabels = fineTrain.Entries.Select(e => PreparedSplit.LabelOf(fineClasses, e)).ToList();
        var fineTestFeatures = testRows.Select(p => testFeatures[p.i]).ToList();
        var fineTestLabels = testRows.Select(p => PreparedSplit.LabelOf(fineClasses, p.e)).ToList();
        metrics.Add("fine-grained linear probe", SpatialEvaluation.LinearProbe(MLContext, trainFeatures, fineTrainLabels, fineTestFeatures, fineTestLabels).MicroAccuracy);
        if (standardized is not null)
            metrics.Add("fine-grained (z-scored, CV L2)", StandardizedLinearProbe.Fit(MLContext, trainFeatures, fineTrainLabels, seed: Seed)
                .Evaluate(fineTestFeatures, fineTestLabels).MicroAccuracy);

        // Style shift: probe fitted on Google's drawings, tested on another style's drawings of the same test emoji.
        foreach (var style in new[] { "twitter", "openmoji" })
            if (File.Exists(Path.Combine(folder, $"{style}-category-test.csv")))
                StyleShift(style, split.Evaluation($"{style}-category"), train.ClassNames, features, trainFeatures, standardized, metrics);

        if (Config.Corruptions) Corruptions(features, EmojiCorruptionSeverities, perKind: true, metrics);

        if (!Config.SpatialTests) return;
        PatchPairs("", features, TestImages.Take(200).ToList(), 8, metrics, featurizer);
        Jigsaw(features, 300, metrics, 2);
        if (LoadPhotos() is { } images)
        {
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
        var probe = new LocalizationOptions { Composites = options, CompositesPerObject = 2 };
        var localisation = SpatialEvaluation.LocalizationProbe(features, objects, photos, probe);
        metrics.Add("localisation mean R²", localisation.MeanRSquared);
        foreach (var target in localisation.Targets) metrics.Add($"localisation R² {target.Target}", target.RSquared);
        metrics.Add("localisation IoU", localisation.MeanIntersectionOverUnion);
        if (featurizer is null) return; // the rest reads our feature map
        var dense = featurizer.AsDenseFeaturizer();
        // The same probe on the whole feature map: where the locations' features still say where the object is.
        var onTheMap = SpatialEvaluation.LocalizationProbe(dense.AsImageFeaturizer(), objects, photos, probe);
        metrics.Add("localisation mean R² (feature map)", onTheMap.MeanRSquared);
        metrics.Add("localisation IoU (feature map)", onTheMap.MeanIntersectionOverUnion);
        var composites = SpatialEvaluation.ObjectComposites(objects, photos, 1, options with { Seed = Seed + 1 });
        try
        {
            var segmentation = SpatialEvaluation.ForegroundSegmentationProbe(MLContext, dense,
                composites.Take(200).ToList(), composites.Skip(200).ToList());
            metrics.Add("foreground mIoU", segmentation.MeanIoU);
        }
        finally
        {
            foreach (var composite in composites) composite.Image.Dispose();
        }
    }
}
