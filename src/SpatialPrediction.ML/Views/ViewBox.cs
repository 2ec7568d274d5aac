namespace SpatialPrediction.ML.Views;

/// <summary>
/// A crop's location in the normalised coordinates of the image it came from: centre (x right, y down) and size, all
/// as fractions of the image's width and height (so a box keeps its meaning in a picture of any aspect ratio). Carrying the box with the crop is what lets SP compute its targets.
/// </summary>
internal readonly record struct ViewBox(float CenterX, float CenterY, float Width, float Height)
{
    /// <summary>Left edge.</summary>
    public float Left => CenterX - Width / 2;
    /// <summary>Right edge.</summary>
    public float Right => CenterX + Width / 2;
    /// <summary>Top edge.</summary>
    public float Top => CenterY - Height / 2;
    /// <summary>Bottom edge.</summary>
    public float Bottom => CenterY + Height / 2;
    /// <summary>Area as a fraction of the image.</summary>
    public float Area => Width * Height;

    /// <summary>The box of whole pixels <paramref name="left"/>, <paramref name="top"/>, <paramref name="width"/> × <paramref name="height"/> of a <paramref name="pictureWidth"/> × <paramref name="pictureHeight"/> picture.</summary>
    public static ViewBox FromPixels(int left, int top, int width, int height, int pictureWidth, int pictureHeight)
        => new((left + width / 2f) / pictureWidth, (top + height / 2f) / pictureHeight, (float)width / pictureWidth, (float)height / pictureHeight);

    /// <summary>
    /// The box in whole pixels of a <paramref name="pictureWidth"/> × <paramref name="pictureHeight"/> picture (rounded,
    /// at least one pixel, inside the picture): exact for a box made by <see cref="FromPixels"/> at that size.
    /// </summary>
    public (int Left, int Top, int Width, int Height) ToPixels(int pictureWidth, int pictureHeight)
    {
        int width = Math.Clamp((int)MathF.Round(Width * pictureWidth), 1, pictureWidth);
        int height = Math.Clamp((int)MathF.Round(Height * pictureHeight), 1, pictureHeight);
        int left = Math.Clamp((int)MathF.Round(Left * pictureWidth), 0, pictureWidth - width);
        int top = Math.Clamp((int)MathF.Round(Top * pictureHeight), 0, pictureHeight - height);
        return (left, top, width, height);
    }

    /// <summary>The same region seen in the horizontally mirrored image.</summary>
    public ViewBox Mirrored() => this with { CenterX = 1f - CenterX };

    /// <summary>Intersection over union with another box.</summary>
    public float IntersectionOverUnion(ViewBox other)
    {
        float w = Math.Max(0f, Math.Min(Right, other.Right) - Math.Max(Left, other.Left));
        float h = Math.Max(0f, Math.Min(Bottom, other.Bottom) - Math.Max(Top, other.Top));
        float intersection = w * h;
        return intersection / (Area + other.Area - intersection);
    }

    /// <summary>
    /// Separation from another box: the larger of the horizontal and vertical gaps between their edges. Positive
    /// when the boxes are apart by that much along at least one axis; zero or negative when they touch or overlap.
    /// </summary>
    public float Gap(ViewBox other)
    {
        float gapX = Math.Abs(other.CenterX - CenterX) - (Width + other.Width) / 2;
        float gapY = Math.Abs(other.CenterY - CenterY) - (Height + other.Height) / 2;
        return Math.Max(gapX, gapY);
    }

    /// <summary>Whether the box lies inside the unit square (with a small tolerance for rounding).</summary>
    public bool IsInsideImage => Left >= -1e-5f && Top >= -1e-5f && Right <= 1 + 1e-5f && Bottom <= 1 + 1e-5f;
}
