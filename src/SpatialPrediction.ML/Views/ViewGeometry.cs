namespace SpatialPrediction.ML.Views;

/// <summary>
/// Where the crops of one view of a batch came from: for each picture, the box in the picture's normalised coordinates
/// and whether the crop was mirrored before it was shown.
/// </summary>
internal sealed record ViewGeometry(ViewBox[] Boxes, bool[] Mirrored);
