using System.Text.Json;
using System.Text.Json.Serialization;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;

namespace AccuracyExperiments;

/// <summary>
/// One featuriser of an experiment: a host objective with or without SP, or the starting weights untrained (Epochs = 0:
/// random, or the config's initial backbone), or an ML.NET reference featuriser (<c>Reference = "DnnFeaturizeImage"</c>:
/// ML.NET's ImageNet ResNet-18 at 224 px).
/// </summary>
/// <remarks>
/// The nullable settings after <c>Reference</c> override the experiment's (or the library's) value for this featuriser
/// only, so one config can hold the rows of an ablation.
/// </remarks>
internal sealed record FeaturizerConfig(string Name, SslFramework Framework = SslFramework.SimClr, bool SpatialPrediction = false, int? Epochs = null,
    string? Reference = null)
{
    public float? SpatialWeight { get; init; }
    public double? SpatialWarmup { get; init; }
    public float? SpatialGradientScale { get; init; }
    public float? MaxOverlap { get; init; }
    public float? MinGap { get; init; }
    public int? LocalResolution { get; init; }
    public int? SpatialProjectorWidth { get; init; }
    public int? SpatialDetailResolution { get; init; }
    public bool? SpatialUpdatesBatchNormStatistics { get; init; }
    public bool? SpatialBothDirections { get; init; }
    public bool? SpatialOnHostViews { get; init; }
    public double? LearningRate { get; init; }
    public int? ImageSize { get; init; }
    public int? FeaturizationImageSize { get; init; }
    public SpatialPrediction.ML.ComputePrecision? FeaturizationPrecision { get; init; }
    public SpatialPrediction.ML.ComputePrecision? TrainingPrecision { get; init; }
    public int? FrozenStages { get; init; }
    public double? StartingPointPenalty { get; init; }
    public bool? FreezeBatchNormStatistics { get; init; }
    public bool? RecalibrateBatchNorm { get; init; }
    public double? WarmupFraction { get; init; }
    public int? BatchSize { get; init; }
    public bool? ClipGradientPerPart { get; init; }
    public double? GradientClipNorm { get; init; }
    /// <summary>
    /// What shows through the training pictures' transparent pixels: null or "black" (what the decoder gives), or
    /// "photos" (each training emoji drawn over a random square of a random Debian photograph; emoji only). The
    /// evaluations are unchanged.
    /// </summary>
    public string? TrainingBackground { get; init; }
    /// <summary>
    /// How the last feature map becomes the vector the probes read: null or "global" (the featuriser's own output, the
    /// map's mean), "pyramid" (the library's SpatialPyramid: those features, then the means of the map's four
    /// quadrants: 5 × channels), or
    /// "both" (one training, evaluated both ways; the pyramid's metrics carry " (pyramid)" after their names).
    /// </summary>
    public string? Pooling { get; init; }

    /// <summary>
    /// Whether nothing about this featuriser depends on the seed: a reference featuriser, or given starting weights used
    /// untrained (random ones depend on it). The seed also draws the probes' cross-validation folds; the first seed's
    /// values stand for all.
    /// </summary>
    public bool IsDeterministic(ExperimentConfig config)
        => Reference is not null || (Epochs == 0 && config.InitialBackbone is not null && RecalibrateBatchNorm != true);
}

/// <summary>
/// What an experiment runs, as data (JSON): datasets, featurisers, seeds and the training budget. The defaults are the
/// SpatialScenes comparison of random init, SimCLR and SimCLR + SP.
/// </summary>
internal sealed record ExperimentConfig
{
    public int Seeds { get; init; } = 1;
    /// <summary>Backbone of every featuriser. Default SmallResNet (2 CPU cores); the GPU config uses ResNet18.</summary>
    public BackboneKind Backbone { get; init; } = BackboneKind.SmallResNet;
    public int ImageSize { get; init; } = 32;
    public int BackboneWidth { get; init; } = 16;
    public int Epochs { get; init; } = 10;
    /// <summary>Learning rate of pretraining; null: SpatialPretrainOptions' default.</summary>
    public double? LearningRate { get; init; }
    /// <summary>Weights every trained featuriser starts from: null (random) or "ImageNetResNet18" (ML.NET's, see docs/usage.md).</summary>
    public string? InitialBackbone { get; init; }
    /// <summary>Whether the spatial tests (patch pairs, jigsaw) run; off for recognition-only comparisons.</summary>
    public bool SpatialTests { get; init; } = true;
    /// <summary>Whether the emoji run scores the linear probe under every corruption at severities 1, 3 and 5 (SpatialScenes always does, at 1–5).</summary>
    public bool Corruptions { get; init; } = true;
    public int BatchSize { get; init; } = 64;
    public float SpatialWeight { get; init; } = 4f;
    public int TrainImages { get; init; } = 2000;
    public int TestImages { get; init; } = 1000;
    /// <summary>
    /// "test": train on the training split, report on the test split (the final table). "validation": hold out one in
    /// five training emoji (by code points, the same emoji in every style) and report on them; every choice is made
    /// on this split, the test split is not read.
    /// </summary>
    public string Split { get; init; } = "test";
    /// <summary>Featuriser every other one is compared with (paired by seed: mean ± std of the difference); null: none.</summary>
    public string? Baseline { get; init; }
    /// <summary>Whether the z-scored, cross-validated-penalty probes are reported next to the default probe.</summary>
    public bool StandardizedProbes { get; init; } = true;
    /// <summary>"scenes" (SpatialScenes, all evaluations), "emoji", "fashion" (Fashion-MNIST) and/or "icons" (Papirus), the last three prepared by samples/PrepareData.</summary>
    public string[] Datasets { get; init; } = { "scenes" };
    /// <summary>Folder the data preparation wrote (emoji/, photos.csv); null: the default cache folder.</summary>
    public string? DataFolder { get; init; }
    public FeaturizerConfig[] Featurizers { get; init; } =
    {
        new("random init", SslFramework.SimClr, false, 0),
        new("SimCLR", SslFramework.SimClr, false),
        new("SimCLR + SP", SslFramework.SimClr, true),
    };

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        ReadCommentHandling = JsonCommentHandling.Skip,
        WriteIndented = true,
    };

    public static ExperimentConfig Load(string path)
    {
        var config = JsonSerializer.Deserialize<ExperimentConfig>(File.ReadAllText(path), Json)
                     ?? throw new InvalidDataException($"{path}: empty experiment configuration.");
        // Checked before any training, not when the first evaluation reaches it.
        foreach (var f in config.Featurizers)
            if (f.Pooling is not (null or "global" or "pyramid" or "both") || (f.Pooling is "pyramid" or "both" && f.Reference is not null))
                throw new InvalidDataException($"{path}: featuriser '{f.Name}' has pooling '{f.Pooling}'; use \"global\", \"pyramid\" or \"both\" (the pyramid needs a featuriser of this library, not a reference one).");
        return config;
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>
    /// Whether this configuration carries on <paramref name="saved"/>'s run: the same in everything, except that
    /// featurisers and datasets may have been added after the saved ones (their values are measured on resume; the
    /// others are kept). Both are written by this build, so a setting added to the runner since (null when absent)
    /// does not count.
    /// </summary>
    public bool Continues(ExperimentConfig saved)
        => saved.Featurizers.Length <= Featurizers.Length && saved.Datasets.Length <= Datasets.Length
           && (saved with { Featurizers = Featurizers, Datasets = Datasets }).ToJson() == ToJson()
           && saved.Datasets.SequenceEqual(Datasets.Take(saved.Datasets.Length))
           && saved.Featurizers.Select((f, i) => JsonSerializer.Serialize(f, Json) == JsonSerializer.Serialize(Featurizers[i], Json)).All(same => same);

    public string ResolvedDataFolder => DataFolder ?? Path.Combine(
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
        "spatial-prediction", "data");
}
