using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;

namespace SpatialPrediction.ML.Training;

/// <summary>Everything the training engine needs, independent of ML.NET (the public options map onto this).</summary>
public sealed record PretrainingSettings
{
    /// <summary>Host objective.</summary>
    public SslFramework Framework { get; init; } = SslFramework.SimClr;
    /// <summary>Backbone architecture.</summary>
    public BackboneKind Backbone { get; init; } = BackboneKind.SmallResNet;
    /// <summary>Base channel width of the backbone.</summary>
    public int BackboneWidth { get; init; } = 32;
    /// <summary>Side of the host's views (and of the images as stored).</summary>
    public int ImageSize { get; init; } = 64;
    /// <summary>Whether SP is added to the host loss.</summary>
    public bool SpatialPredictionEnabled { get; init; } = true;
    /// <summary>λ, the SP loss weight.</summary>
    public float SpatialPredictionWeight { get; init; } = 1f;
    /// <summary>SP plug-in settings.</summary>
    public SpatialPredictionSettings SpatialPrediction { get; init; } = new();
    /// <summary>Passes over the training images.</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Images per step.</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>Peak AdamW learning rate.</summary>
    public double LearningRate { get; init; } = 2e-3;
    /// <summary>AdamW weight decay.</summary>
    public double WeightDecay { get; init; } = 1e-4;
    /// <summary>Fraction of all steps spent warming up the learning rate.</summary>
    public double WarmupFraction { get; init; } = 0.1;
    /// <summary>Global gradient-norm clip; 0 disables it.</summary>
    public double GradientClipNorm { get; init; } = 3.0;
    /// <summary>Fraction of images held out to measure the SP validation loss.</summary>
    public double ValidationFraction { get; init; } = 0.1;
    /// <summary>Seed of every random choice (initialisation, order, views, augmentation).</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Progress sink, called after every step.</summary>
    public IProgress<PretrainingProgress>? Progress { get; init; }
    /// <summary>Stops training between steps.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Whether SP contributes to the loss.</summary>
    public bool UsesSpatialPrediction => SpatialPredictionEnabled && SpatialPredictionWeight > 0;
}
