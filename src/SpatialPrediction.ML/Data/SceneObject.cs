namespace SpatialPrediction.ML.Data;

/// <summary>One object drawn into a scene, with its box in normalised image coordinates (centre, size, in [0, 1]).</summary>
/// <param name="Shape">The object's class.</param>
/// <param name="CenterX">Box centre, fraction of the image width from the left edge.</param>
/// <param name="CenterY">Box centre, fraction of the image height from the top edge.</param>
/// <param name="Width">Box width as a fraction of the image width.</param>
/// <param name="Height">Box height as a fraction of the image height.</param>
/// <param name="Red">Fill colour, red channel.</param>
/// <param name="Green">Fill colour, green channel.</param>
/// <param name="Blue">Fill colour, blue channel.</param>
public sealed record SceneObject(
    SceneShape Shape, float CenterX, float CenterY, float Width, float Height, byte Red, byte Green, byte Blue);
