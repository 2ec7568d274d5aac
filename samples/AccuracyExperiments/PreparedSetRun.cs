namespace AccuracyExperiments;

/// <summary>
/// A set prepared by samples/PrepareData as CSVs in data/NAME/: NAME-train.csv, NAME-test.csv and, for each style shift,
/// NAME-shift-STYLE-train.csv and -test.csv (Fashion-MNIST: none; the Papirus icons: their 16 px drawings). Recognition,
/// the shifts, corruptions and, when asked, the spatial tests. The validation split holds out one training picture in
/// five by a hash of its file name, so a shift holds out the same pictures.
/// </summary>
internal sealed class PreparedSetRun : DatasetRun
{
    private readonly string name, folder;
    private readonly PreparedSplit split;
    private readonly ImageDataset train;
    private static readonly int[] CorruptionSeverities = { 1, 3, 5 };

    public PreparedSetRun(string name, ExperimentConfig config, int seed) : base(new MLContext(seed), config, seed)
    {
        this.name = name;
        folder = Path.Combine(config.ResolvedDataFolder, name);
        string trainCsv = Path.Combine(folder, $"{name}-train.csv");
        if (!File.Exists(trainCsv))
            throw new FileNotFoundException($"{trainCsv} not found: prepare it first with 'dotnet run -c Release --project samples/PrepareData -- {name}' (or set dataFolder).", trainCsv);
        split = new PreparedSplit(folder, config.Split, path => Path.GetFileNameWithoutExtension(path));
        train = split.Part(trainCsv, heldOut: false);
        PreparedSplit.Load(train, train.ClassNames, TrainImages, TrainLabels);
        PreparedSplit.Load(split.Evaluation(name), train.ClassNames, TestImages, TestLabels);
    }

    protected override IDataView TrainingView() => train.ToDataView(MLContext);

    protected override void EvaluateMore(SpatialFeaturizerTransformer? featurizer, ImageFeaturizer features,
        float[][] trainFeatures, float[][] testFeatures, StandardizedLinearProbe? standardized, MetricSet metrics)
    {
        string prefix = $"{name}-shift-";
        foreach (string style in Directory.EnumerateFiles(folder, $"{prefix}*-train.csv").Select(f => Path.GetFileName(f)[prefix.Length..^"-train.csv".Length]).Order())
            StyleShift(style, split.Evaluation($"{prefix}{style}"), train.ClassNames, features, trainFeatures, standardized, metrics);
        if (Config.Corruptions) Corruptions(features, CorruptionSeverities, perKind: false, metrics);
        if (!Config.SpatialTests) return;
        PatchPairs("", features, TestImages.Take(200).ToList(), 8, metrics, featurizer);
        Jigsaw(features, 300, metrics, 2);
    }
}
