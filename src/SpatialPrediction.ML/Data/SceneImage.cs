namespace SpatialPrediction.ML.Data;

/// <summary>
/// One rendered scene: RGB pixels (row-major, 3 bytes a pixel), the label (the class of the main object) and every
/// object's box. Objects are listed back to front; the first is the main object.
/// </summary>
public sealed class SceneImage
{
    internal SceneImage(int index, int width, int height, byte[] rgb, IReadOnlyList<SceneObject> objects, byte[] mask, float[] depth, SceneStyle style)
    {
        Index = index;
        Width = width;
        Height = height;
        Rgb = rgb;
        Objects = objects;
        Mask = mask;
        Depth = depth;
        Style = style;
    }

    /// <summary>Position of the scene in its set; with the seed it fully determines the pixels.</summary>
    public int Index { get; }
    /// <summary>Width in pixels.</summary>
    public int Width { get; }
    /// <summary>Height in pixels.</summary>
    public int Height { get; }
    /// <summary>Pixels, RGB, row-major, <c>Width * Height * 3</c> bytes.</summary>
    public byte[] Rgb { get; }
    /// <summary>Objects back to front; <c>Objects[0]</c> is the labelled main object.</summary>
    public IReadOnlyList<SceneObject> Objects { get; }
    /// <summary>
    /// Per-pixel class, row-major: 0 is background, k + 1 is class k (<see cref="SceneShape"/> value k) of the object
    /// in front at that pixel (a pixel belongs to an object when at least half of it is covered).
    /// </summary>
    public byte[] Mask { get; }
    /// <summary>Per-pixel depth, row-major, in scene units: objects in front (main object nearest), background a tilted plane behind.</summary>
    public float[] Depth { get; }
    /// <summary>The style it was rendered in.</summary>
    public SceneStyle Style { get; }
    /// <summary>The class of the main object.</summary>
    public SceneShape Shape => Objects[0].Shape;
    /// <summary>The class label as an integer (<see cref="SceneShape"/> value).</summary>
    public int Label => (int)Objects[0].Shape;
}
