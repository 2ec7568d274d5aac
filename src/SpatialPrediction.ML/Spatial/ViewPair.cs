using SpatialPrediction.ML.Views;

namespace SpatialPrediction.ML.Spatial;

/// <summary>
/// Two local views of one image: the reference A and the view B whose relative position and scale SP predicts.
/// Boxes are in the original image's coordinates. When <see cref="Mirrored"/> is set both crops are shown mirrored,
/// so the targets must be computed in the mirrored frame: use <see cref="SeenReference"/> and <see cref="SeenTarget"/>.
/// </summary>
internal readonly record struct ViewPair(ViewBox Reference, ViewBox Target, bool Mirrored)
{
    /// <summary>The reference box in the frame the model sees.</summary>
    public ViewBox SeenReference => Mirrored ? Reference.Mirrored() : Reference;
    /// <summary>The second box in the frame the model sees.</summary>
    public ViewBox SeenTarget => Mirrored ? Target.Mirrored() : Target;
}
