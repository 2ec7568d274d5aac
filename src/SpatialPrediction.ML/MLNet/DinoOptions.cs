using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML;

/// <summary>DINO's multi-crop views, read when <see cref="SpatialPretrainOptions.Framework"/> is <see cref="Objectives.SslFramework.Dino"/>.</summary>
public sealed class DinoOptions
{
    private static readonly PretrainingSettings Defaults = new();

    /// <summary>Local crops per image next to the two global ones. Default 4.</summary>
    public int LocalCrops { get; set; } = Defaults.LocalCrops;

    /// <summary>Side of the local crops in pixels; 0 (default) means half of <see cref="SpatialPretrainOptions.ImageSize"/>.</summary>
    public int LocalCropSize { get; set; }
}
