namespace SpatialPrediction.ML.Data;

/// <summary>Settings of the built-in <see cref="SpatialScenes"/> generator.</summary>
public sealed class SpatialScenesOptions
{
    /// <summary>Image side in pixels. Default 64.</summary>
    public int ImageSize { get; set; } = 64;

    /// <summary>Seed; the same seed, index and options always give the same pixels. Default 1.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>How many object classes to draw from (2 to 8, the first ones of <see cref="SceneShape"/>). Default 8.</summary>
    public int ClassCount { get; set; } = 8;

    /// <summary>Smallest main-object side, as a fraction of the image side. Default 0.5 (object-centric, like CIFAR).</summary>
    public float MinObjectScale { get; set; } = 0.5f;

    /// <summary>Largest main-object side, as a fraction of the image side. Default 0.9.</summary>
    public float MaxObjectScale { get; set; } = 0.9f;

    /// <summary>Rendering style; geometry, masks and depth do not depend on it. Default <see cref="SceneStyle.Standard"/>.</summary>
    public SceneStyle Style { get; set; } = SceneStyle.Standard;

    /// <summary>Smaller unlabelled objects of other classes drawn behind the main one. Default 0.</summary>
    public int DistractorCount { get; set; }

    internal void Validate()
    {
        if (ImageSize < 8 || ImageSize > 1024)
            throw new ArgumentOutOfRangeException(nameof(ImageSize), ImageSize, "ImageSize must be between 8 and 1024 pixels.");
        int classes = Enum.GetValues<SceneShape>().Length;
        if (ClassCount < 2 || ClassCount > classes)
            throw new ArgumentOutOfRangeException(nameof(ClassCount), ClassCount, $"ClassCount must be between 2 and {classes}.");
        if (!(MinObjectScale > 0 && MinObjectScale <= MaxObjectScale && MaxObjectScale <= 1))
            throw new ArgumentOutOfRangeException(nameof(MinObjectScale),
                $"Object scales must satisfy 0 < MinObjectScale <= MaxObjectScale <= 1 (got {MinObjectScale}, {MaxObjectScale}).");
        if (!Enum.IsDefined(Style))
            throw new ArgumentOutOfRangeException(nameof(Style), Style, "Unknown scene style.");
        if (DistractorCount < 0 || DistractorCount > 8)
            throw new ArgumentOutOfRangeException(nameof(DistractorCount), DistractorCount, "DistractorCount must be between 0 and 8.");
    }
}
