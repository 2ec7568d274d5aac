using SpatialPrediction.ML.Views;

namespace SpatialPrediction.ML.Spatial;

/// <summary>Everything the SP plug-in needs, independent of ML.NET (the public options map onto this).</summary>
internal sealed record SpatialPredictionSettings
{
    /// <summary>How pairs of views are drawn.</summary>
    public SpatialViewPairSampler Sampler { get; init; } = new();
    /// <summary>Side in pixels both views are resized to, so absolute size is not visible in pixels.</summary>
    public int LocalResolution { get; init; } = 32;
    /// <summary>Target parameterisation.</summary>
    public TargetParameterization Parameterization { get; init; } = TargetParameterization.ReferenceRelative;
    /// <summary>Independent photometric augmentation applied to each view.</summary>
    public PhotometricAugmentation Augmentation { get; init; } = new() { BlurProbability = 0.2f };
    /// <summary>Hidden width of the head.</summary>
    public int HeadWidth { get; init; } = 256;
    /// <summary>Hidden layers of the head.</summary>
    public int HeadDepth { get; init; } = 2;
    /// <summary>
    /// When positive, every view is reduced (antialiased) to this side before it is resized to
    /// <see cref="LocalResolution"/>, so all views carry the same detail whatever their box size; 0: off.
    /// </summary>
    public int DetailResolution { get; init; }
    /// <summary>Width of a per-view projector between the backbone and the head; 0: none (the head reads the pooled embedding). Default 256.</summary>
    public int ProjectorWidth { get; init; } = 256;
    /// <summary>The regression loss.</summary>
    public SpatialPredictionLoss Loss { get; init; } = new();
    /// <summary>
    /// Factor on SP's gradient where it enters the backbone (the head still learns at full rate): 1 passes it whole, 0
    /// detaches the embeddings, so SP trains its head and its batch-norm passes but teaches the backbone nothing.
    /// </summary>
    public float BackboneGradientScale { get; init; } = 1f;
    /// <summary>
    /// Whether SP's training-mode forward of its local views moves the backbone's batch-norm running statistics. When
    /// false, each SP batch is still normalised with its own statistics but the running ones, which the frozen featuriser
    /// applies to whole pictures, come from the host's views alone, as in a run without SP.
    /// </summary>
    public bool UpdatesBatchNormStatistics { get; init; } = true;
    /// <summary>
    /// Whether the head also predicts A relative to B (AugSelf's two directions): twice the supervision from the same
    /// forward pass. The sampler draws A and B alike, so one standardisation serves both directions.
    /// </summary>
    public bool PredictsBothDirections { get; init; }
    /// <summary>
    /// Whether SP trains on the host's first two views (their pooled features from the host's own forward pass, their
    /// crop boxes as targets) instead of a pair of local views of its own: no extra forward pass and no extra batch-norm
    /// statistics, as AugSelf does. The sampler, local resolution, detail resolution, augmentation and pairs per image
    /// then play no part in training.
    /// </summary>
    public bool OnHostViews { get; init; }
    /// <summary>Pairs drawn from each image per step.</summary>
    public int PairsPerImage { get; init; } = 1;
}
