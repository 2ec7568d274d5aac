namespace SpatialPrediction.ML.Backbones;

/// <summary>How a backbone turns [0, 1] RGB images into its input (part of the architecture: it travels with the weights).</summary>
public enum InputNormalization
{
    /// <summary>Per-channel standardisation with ImageNet statistics (mean 0.485, 0.456, 0.406; std 0.229, 0.224, 0.225).</summary>
    ImageNet = 0,
    /// <summary>
    /// The preprocessing of ML.NET's <c>DnnFeaturizeImage</c> ResNet models (exported from CNTK): channels reordered to
    /// BGR, scaled to 0–255, minus a per-pixel mean image (3 × 224 × 224, a buffer of the backbone named
    /// <c>input_mean</c>, resized bilinearly for other input sizes).
    /// </summary>
    BgrMeanImage = 1,
}
