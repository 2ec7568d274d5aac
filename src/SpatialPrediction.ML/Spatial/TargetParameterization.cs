namespace SpatialPrediction.ML.Spatial;

/// <summary>How the relative position of the second view is expressed.</summary>
public enum TargetParameterization
{
    /// <summary>
    /// Default: position in units of the reference view's own size, as in box regression:
    /// t = ((xB - xA) / wA, (yB - yA) / hA, log(wB / wA), log(hB / hA)).
    /// </summary>
    ReferenceRelative = 0,

    /// <summary>
    /// Position in units of the whole image: t = (xB - xA, yB - yA, log(wB / wA), log(hB / hA)).
    /// </summary>
    ImageNormalized = 1,
}
