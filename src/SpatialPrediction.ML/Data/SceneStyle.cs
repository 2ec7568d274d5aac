namespace SpatialPrediction.ML.Data;

/// <summary>
/// Rendering styles of <see cref="SpatialScenes"/>, for style-shift tests: the same seed and index give the same
/// geometry, classes, masks and depth in every style; only the look changes.
/// </summary>
public enum SceneStyle
{
    /// <summary>Flat-coloured objects on textured backgrounds.</summary>
    Standard = 0,
    /// <summary>Objects drawn as outlines only (a sketch-like rendering).</summary>
    Outline = 1,
    /// <summary>Objects filled with a diagonal stripe texture instead of a flat colour.</summary>
    Texture = 2,
    /// <summary>The standard rendering in grayscale.</summary>
    Grayscale = 3,
    /// <summary>A shifted palette: object hues rotated by a third of the colour wheel and backgrounds lightened.</summary>
    Palette = 4,
}
