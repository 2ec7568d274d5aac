using Microsoft.ML.Data;
using SkiaSharp;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>Where an object sits in a composite, in [0, 1] of the picture's width and height.</summary>
/// <param name="CenterX">Horizontal centre.</param>
/// <param name="CenterY">Vertical centre.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
public readonly record struct ObjectBox(float CenterX, float CenterY, float Width, float Height)
{
    /// <summary>Intersection over union with <paramref name="other"/>.</summary>
    public double IntersectionOverUnion(ObjectBox other)
    {
        double overlapX = Math.Max(0, Math.Min(CenterX + Width / 2, other.CenterX + other.Width / 2) - Math.Max(CenterX - Width / 2, other.CenterX - other.Width / 2));
        double overlapY = Math.Max(0, Math.Min(CenterY + Height / 2, other.CenterY + other.Height / 2) - Math.Max(CenterY - Height / 2, other.CenterY - other.Height / 2));
        double intersection = overlapX * overlapY;
        double union = (double)Width * Height + (double)other.Width * other.Height - intersection;
        return union > 0 ? intersection / union : 0;
    }
}

/// <summary>One composite: the picture (opaque), the box of the object in it, and its foreground mask (row-major, one byte a pixel, 1 = object).</summary>
/// <param name="Image">The picture, Rgba32, opaque.</param>
/// <param name="Box">Where the object's bounding square was drawn.</param>
/// <param name="Mask">1 where the object covers at least half of a pixel, else 0.</param>
/// <param name="ObjectIndex">Which of the objects was drawn.</param>
public sealed record ObjectComposite(MLImage Image, ObjectBox Box, byte[] Mask, int ObjectIndex);

/// <summary>Settings of <see cref="SpatialEvaluation.ObjectComposites"/>.</summary>
public sealed record ObjectCompositeOptions
{
    /// <summary>Side in pixels of every composite. Default 32.</summary>
    public int Side { get; init; } = 32;
    /// <summary>Smallest side of the object's square as a share of the picture's. Default 0.3.</summary>
    public float MinScale { get; init; } = 0.3f;
    /// <summary>Largest side of the object's square as a share of the picture's. Default 0.7.</summary>
    public float MaxScale { get; init; } = 0.7f;
    /// <summary>Seed of the placement and background draws. Default 1.</summary>
    public int Seed { get; init; } = 1;

    internal void Validate()
    {
        if (Side < 8) throw new ArgumentOutOfRangeException(nameof(Side), Side, "Side must be at least 8 pixels.");
        if (!(MinScale > 0 && MinScale <= MaxScale && MaxScale <= 1))
            throw new ArgumentOutOfRangeException(nameof(MinScale), $"Need 0 < MinScale ({MinScale}) <= MaxScale ({MaxScale}) <= 1.");
    }
}

public static partial class SpatialEvaluation
{
    /// <summary>
    /// One composite per (object, draw): <paramref name="perObject"/> composites of each of <paramref name="objects"/>
    /// (Rgba32 or Bgra32, premultiplied or opaque: what <see cref="Data.ImageDataset"/> decodes), each on one of
    /// <paramref name="backgrounds"/>. The caller owns the returned images.
    /// </summary>
    /// <remarks>
    /// Objects with transparency (drawings, icons) pasted onto photographs at a random position and size: pictures whose
    /// object box and foreground mask are known exactly, for the localisation and segmentation probes. Each object's
    /// picture is fitted into a square (aspect kept) whose side is drawn log-uniformly between the scales and whose
    /// position is uniform over the places it fits; the background is a random square cut of a random photograph.
    /// </remarks>
    public static IReadOnlyList<ObjectComposite> ObjectComposites(IReadOnlyList<MLImage> objects, IReadOnlyList<MLImage> backgrounds, int perObject = 1,
        ObjectCompositeOptions? options = null)
    {
        options ??= new ObjectCompositeOptions();
        options.Validate();
        if (objects.Count == 0) throw new ArgumentException("No objects to paste.", nameof(objects));
        if (backgrounds.Count == 0) throw new ArgumentException("No backgrounds to paste onto.", nameof(backgrounds));
        if (perObject < 1) throw new ArgumentOutOfRangeException(nameof(perObject), perObject, "perObject must be at least 1.");
        var random = new Random(options.Seed);
        var objectBitmaps = objects.Select((image, i) => ToBitmap(image, $"object {i}")).ToList();
        var backgroundBitmaps = backgrounds.Select((image, i) => ToBitmap(image, $"background {i}")).ToList();
        try
        {
            var composites = new List<ObjectComposite>();
            for (int i = 0; i < objectBitmaps.Count; i++)
            for (int k = 0; k < perObject; k++)
                composites.Add(Compose(objectBitmaps[i], backgroundBitmaps[random.Next(backgroundBitmaps.Count)], i, random, options));
            return composites;
        }
        finally
        {
            foreach (var bitmap in objectBitmaps.Concat(backgroundBitmaps)) bitmap.Dispose();
        }
    }

    private static ObjectComposite Compose(SKBitmap item, SKBitmap background, int index, Random random, ObjectCompositeOptions options)
    {
        int side = options.Side;
        double logScale = Math.Log(options.MinScale) + random.NextDouble() * (Math.Log(options.MaxScale) - Math.Log(options.MinScale));
        float square = (float)(Math.Exp(logScale) * side);
        float left = (float)(random.NextDouble() * (side - square)), top = (float)(random.NextDouble() * (side - square));
        // The object fills its square along its longer side, centred along the other.
        float fit = square / Math.Max(item.Width, item.Height);
        float width = item.Width * fit, height = item.Height * fit;
        var objectRect = SKRect.Create(left + (square - width) / 2, top + (square - height) / 2, width, height);
        int cut = Math.Min(background.Width, background.Height);
        int cutX = random.Next(background.Width - cut + 1), cutY = random.Next(background.Height - cut + 1);

        using var paint = new SKPaint { FilterQuality = SKFilterQuality.High, IsAntialias = true };
        var info = new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var picture = new SKBitmap(info);
        using (var canvas = new SKCanvas(picture))
        {
            canvas.DrawBitmap(background, SKRect.Create(cutX, cutY, cut, cut), SKRect.Create(0, 0, side, side), paint);
            canvas.DrawBitmap(item, objectRect, paint);
        }
        using var alone = new SKBitmap(info);
        using (var canvas = new SKCanvas(alone))
        {
            canvas.Clear(SKColors.Transparent);
            canvas.DrawBitmap(item, objectRect, paint);
        }
        var pixels = alone.GetPixelSpan();
        var mask = new byte[side * side];
        for (int p = 0; p < mask.Length; p++) mask[p] = pixels[4 * p + 3] >= 128 ? (byte)1 : (byte)0;
        var box = new ObjectBox(objectRect.MidX / side, objectRect.MidY / side, width / side, height / side);
        var image = MLImage.CreateFromPixels(side, side, MLPixelFormat.Rgba32, picture.GetPixelSpan());
        return new ObjectComposite(image, box, mask, index);
    }

    /// <summary>A premultiplied RGBA copy of <paramref name="image"/> for drawing.</summary>
    private static SKBitmap ToBitmap(MLImage image, string name)
    {
        if (image.PixelFormat is not (MLPixelFormat.Rgba32 or MLPixelFormat.Bgra32))
            throw new ArgumentException($"{name} has pixel format {image.PixelFormat}; expected Rgba32 or Bgra32.");
        var source = image.Pixels;
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        bool bgra = image.PixelFormat == MLPixelFormat.Bgra32;
        var buffer = new byte[4 * image.Width * image.Height];
        for (int p = 0; p < buffer.Length; p += 4)
        {
            buffer[p] = source[p + (bgra ? 2 : 0)];
            buffer[p + 1] = source[p + 1];
            buffer[p + 2] = source[p + (bgra ? 0 : 2)];
            buffer[p + 3] = source[p + 3];
        }
        System.Runtime.InteropServices.Marshal.Copy(buffer, 0, bitmap.GetPixels(), buffer.Length);
        return bitmap;
    }
}
