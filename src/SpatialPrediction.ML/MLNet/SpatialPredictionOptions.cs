using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Views;

namespace SpatialPrediction.ML;

/// <summary>Options of the Spatial Prediction plug-in (the SP head, loss and view-pair sampler).</summary>
public sealed class SpatialPredictionOptions
{
    // The SP defaults live in the engine's records (settings, pair sampler, augmentation); the options take them from there.
    private static readonly Spatial.SpatialPredictionSettings Defaults = new();

    /// <summary>
    /// Whether SP is added to the host loss. Default true. <c>Enabled = false</c> or <c>Weight = 0</c> turns SP off.
    /// SP makes features encode the relative position of parts (patch-pair and jigsaw tests up for every host), but on
    /// real pictures at 10, 30 and 100 epochs that did not improve classification, object localisation, foreground
    /// segmentation (at most +0.017 mIoU) or corruption robustness beyond noise, and under drawing-style shift it moved
    /// accuracy by a few hundredths, more often down than up: turn it off
    /// for classification, and keep it where the layout of parts is what the task reads (docs/evaluations.md, "Where SP pays").
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// λ, the weight of the SP loss added to the host loss; null (default) takes the host's measured default,
    /// <see cref="DefaultWeight"/>: 0.5 for SimCLR (and MoCo v3 and BYOL, which were not tuned separately), 0.25 for
    /// DINO, 1 for SP alone, chosen on a validation split of the emoji (docs/objectives.md). SP's cost to style shift
    /// grows with the ratio of its gradient to the host's at the backbone, and so does what it teaches about position.
    /// </summary>
    public float? Weight { get; set; }

    /// <summary>The λ a null <see cref="Weight"/> stands for with <paramref name="framework"/> as the host.</summary>
    public static float DefaultWeight(Objectives.SslFramework framework) => Objectives.HostRegistry.For(framework)?.SpatialWeight ?? 1f;

    /// <summary>
    /// Fraction of the training steps over which λ rises linearly from 0 to <see cref="Weight"/>, so the randomly
    /// initialised head does not push noise into the backbone from the first step. Default 0 (full λ from step 0).
    /// </summary>
    public double WeightWarmupFraction { get; set; }

    /// <summary>
    /// Factor on SP's gradient where it enters the backbone (the SP head still learns at full rate): 1 passes it whole,
    /// 0 detaches the embeddings (SP then trains only its head: a control that keeps SP's forward passes). Default 1.
    /// </summary>
    public float BackboneGradientScale { get; set; } = Defaults.BackboneGradientScale;

    /// <summary>Side in pixels both local views are resized to. Default 32.</summary>
    public int LocalResolution { get; set; } = Defaults.LocalResolution;

    /// <summary>
    /// How the pairs of local views are drawn: their area and aspect ranges, the most they may overlap, an optional gap
    /// between them, and how often a pair is mirrored. Default: areas 0.08–0.35 of the picture, aspect 3/4–4/3, overlap
    /// at most 0.3 IoU, no gap, mirrored half of the time.
    /// </summary>
    /// <example><c>SpatialPrediction = new SpatialPredictionOptions { ViewPairs = new SpatialViewPairSampler { MaxIoU = 0, MinGap = 0.05f } }</c></example>
    public SpatialViewPairSampler ViewPairs { get; set; } = new();

    /// <summary>Probability of blurring each view (independently of the other). Default 0.2.</summary>
    public float BlurProbability { get; set; } = Defaults.Augmentation.BlurProbability;

    /// <summary>Target parameterisation. Default <see cref="TargetParameterization.ReferenceRelative"/>.</summary>
    public TargetParameterization Targets { get; set; } = Defaults.Parameterization;

    /// <summary>Hidden width of the SP head. Default 256.</summary>
    public int HeadWidth { get; set; } = Defaults.HeadWidth;

    /// <summary>Hidden layers of the SP head (0 makes it linear). Default 2.</summary>
    public int HeadDepth { get; set; } = Defaults.HeadDepth;

    /// <summary>
    /// When positive, every local view is reduced (antialiased) to this side before it is resized to
    /// <see cref="LocalResolution"/>, so a small box is not blurrier than a large one and relative scale cannot be read
    /// from sharpness; at most <see cref="LocalResolution"/>. Default 0 (off): at the default λ removing the cue changed
    /// nothing beyond the seed spread (docs/objectives.md, "Sharpness as a scale cue").
    /// </summary>
    public int DetailResolution { get; set; } = Defaults.DetailResolution;

    /// <summary>
    /// Width of a projector (Linear, BatchNorm, ReLU, Linear) that each view's embedding goes through before the head,
    /// as the host objectives have; 0: none, the head reads the pooled embedding that the probe uses. Default 256, chosen
    /// on the emoji validation split (docs/objectives.md; samples/AccuracyExperiments/results/sp-ablation/).
    /// </summary>
    public int ProjectorWidth { get; set; } = Defaults.ProjectorWidth;

    /// <summary>
    /// Whether SP's forward of its small local views moves the backbone's batch-norm running statistics, which the
    /// frozen featuriser then applies to whole pictures. False keeps them to the host's views, as in a run without SP
    /// (each SP batch is still normalised with its own statistics). Default true.
    /// </summary>
    public bool UpdateBatchNormStatistics { get; set; } = Defaults.UpdatesBatchNormStatistics;

    /// <summary>
    /// Whether the head predicts both directions of each pair (B relative to A and A relative to B, as AugSelf does):
    /// twice the supervision from the same forward pass. Default false.
    /// </summary>
    public bool PredictBothDirections { get; set; } = Defaults.PredictsBothDirections;

    /// <summary>
    /// Whether SP trains on the host's own two views instead of a pair of small local views of its own: it predicts
    /// where the host's second view was cut relative to the first, from the pooled features the host's forward pass
    /// has already computed (no extra forward pass, no extra batch-norm statistics; AugSelf's design). Needs a host
    /// (<c>Framework</c> not <c>None</c>); the view-pair settings (sizes, overlap, gap, resolutions, augmentation, pairs
    /// per image) then play no part in training. Default false.
    /// </summary>
    public bool OnHostViews { get; set; }

    /// <summary>View pairs drawn from each image per step. Default 1.</summary>
    public int PairsPerImage { get; set; } = Defaults.PairsPerImage;

    internal SpatialPredictionSettings ToSettings()
    {
        if (Weight is { } weight && (weight < 0 || !float.IsFinite(weight)))
            throw new ArgumentOutOfRangeException(nameof(Weight), Weight, "SpatialPrediction.Weight must be a finite number >= 0.");
        if (!(WeightWarmupFraction >= 0 && WeightWarmupFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(WeightWarmupFraction), WeightWarmupFraction, "SpatialPrediction.WeightWarmupFraction must be in [0, 1].");
        if (!(BackboneGradientScale >= 0 && BackboneGradientScale <= 1))
            throw new ArgumentOutOfRangeException(nameof(BackboneGradientScale), BackboneGradientScale, "SpatialPrediction.BackboneGradientScale must be in [0, 1].");
        if (LocalResolution < 8 || LocalResolution > 512)
            throw new ArgumentOutOfRangeException(nameof(LocalResolution), LocalResolution, "SpatialPrediction.LocalResolution must be between 8 and 512 pixels.");
        if (HeadWidth < 1) throw new ArgumentOutOfRangeException(nameof(HeadWidth), HeadWidth, "SpatialPrediction.HeadWidth must be positive.");
        if (HeadDepth < 0) throw new ArgumentOutOfRangeException(nameof(HeadDepth), HeadDepth, "SpatialPrediction.HeadDepth must not be negative.");
        if (DetailResolution < 0 || DetailResolution > LocalResolution)
            throw new ArgumentOutOfRangeException(nameof(DetailResolution), DetailResolution, $"SpatialPrediction.DetailResolution must be 0 (off) or between 1 and LocalResolution ({LocalResolution}).");
        if (ProjectorWidth < 0) throw new ArgumentOutOfRangeException(nameof(ProjectorWidth), ProjectorWidth, "SpatialPrediction.ProjectorWidth must not be negative (0: no projector).");
        if (PairsPerImage < 1) throw new ArgumentOutOfRangeException(nameof(PairsPerImage), PairsPerImage, "SpatialPrediction.PairsPerImage must be at least 1.");
        if (!(BlurProbability >= 0 && BlurProbability <= 1))
            throw new ArgumentOutOfRangeException(nameof(BlurProbability), BlurProbability, "SpatialPrediction.BlurProbability must be in [0, 1].");
        var sampler = ViewPairs ?? throw new ArgumentNullException(nameof(ViewPairs), "SpatialPrediction.ViewPairs must be set.");
        sampler.Validate();
        return new SpatialPredictionSettings
        {
            Sampler = sampler,
            LocalResolution = LocalResolution,
            Parameterization = Targets,
            Augmentation = new PhotometricAugmentation { BlurProbability = BlurProbability },
            HeadWidth = HeadWidth,
            HeadDepth = HeadDepth,
            PairsPerImage = PairsPerImage,
            BackboneGradientScale = BackboneGradientScale,
            ProjectorWidth = ProjectorWidth,
            DetailResolution = DetailResolution,
            UpdatesBatchNormStatistics = UpdateBatchNormStatistics,
            PredictsBothDirections = PredictBothDirections,
            OnHostViews = OnHostViews,
        };
    }
}
