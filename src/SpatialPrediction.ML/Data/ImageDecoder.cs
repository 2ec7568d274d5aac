using Microsoft.ML.Data;
using SkiaSharp;

namespace SpatialPrediction.ML.Data;

/// <summary>
/// Decodes image files and encoded bytes into <see cref="MLImage"/> the way users' folders need: the header is read first
/// and an image larger than <see cref="MaxPixels"/> is refused before any pixel memory is allocated (a 20000×20000 header
/// would otherwise ask for 1.6 GB); a truncated or corrupt file is an error instead of a half-grey picture; the EXIF
/// orientation of camera JPEGs is applied; grayscale, palette, 16-bit and CMYK sources come out as 8-bit RGBA
/// (premultiplied, as ML.NET's own loader gives them); animated GIF/WebP give their first frame. Every failure is an
/// <see cref="InvalidDataException"/> whose message starts with the file (or row) it is about.
/// </summary>
internal static class ImageDecoder
{
    /// <summary>Largest image accepted, in pixels: 64 megapixels (256 MB of RGBA; an 8000×8000 photograph).</summary>
    public const long MaxPixels = 64_000_000;

    /// <summary>Decodes the file at <paramref name="path"/>.</summary>
    public static MLImage DecodeFile(string path)
    {
        if (Directory.Exists(path)) throw new InvalidDataException($"{path}: is a folder, not an image file.");
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: file not found.");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot be read ({e.GetType().Name}: {e.Message}).", e);
        }
        return Decode(bytes, path);
    }

    /// <summary>Decodes encoded image bytes; <paramref name="source"/> names them in errors (a path, or "row 12 of column 'Image'").</summary>
    public static MLImage Decode(byte[] bytes, string source)
    {
        if (bytes.Length == 0) throw new InvalidDataException($"{source}: the file is empty (0 bytes).");
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data)
                          ?? throw new InvalidDataException($"{source}: not a readable image (no PNG, JPEG, GIF, BMP, WebP, ICO or WBMP signature in its {bytes.Length} bytes).");
        var header = codec.Info;
        if (header.Width < 1 || header.Height < 1) throw new InvalidDataException($"{source}: the image is empty ({header.Width}×{header.Height}).");
        long pixels = (long)header.Width * header.Height;
        if (pixels > MaxPixels)
            throw new InvalidDataException($"{source}: {header.Width}×{header.Height} is {pixels / 1_000_000.0:F0} megapixels, more than the " +
                                           $"{MaxPixels / 1_000_000.0:F0} accepted; downscale the file.");

        var info = new SKImageInfo(header.Width, header.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
            throw new InvalidDataException(result switch
            {
                SKCodecResult.IncompleteInput => $"{source}: truncated ({bytes.Length} bytes; the image data ends early).",
                SKCodecResult.ErrorInInput => $"{source}: corrupt image data.",
                _ => $"{source}: cannot be decoded ({result}).",
            });

        if (codec.EncodedOrigin == SKEncodedOrigin.TopLeft) // the usual case: no turned copy
            return MLImage.CreateFromPixels(bitmap.Width, bitmap.Height, MLPixelFormat.Rgba32, bitmap.GetPixelSpan());
        using var upright = Orient(bitmap, codec.EncodedOrigin);
        return MLImage.CreateFromPixels(upright.Width, upright.Height, MLPixelFormat.Rgba32, upright.GetPixelSpan());
    }

    /// <summary>A copy of the bitmap turned upright according to its EXIF origin (not top-left).</summary>
    private static SKBitmap Orient(SKBitmap bitmap, SKEncodedOrigin origin)
    {
        bool swaps = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int width = swaps ? bitmap.Height : bitmap.Width, height = swaps ? bitmap.Width : bitmap.Height;
        var upright = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(upright);
        // Maps the stored pixels onto the upright frame; see the EXIF Orientation tag (0x0112) values 2–8.
        var matrix = origin switch
        {
            SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, width, 0, 1, 0, 0, 0, 1),
            SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, width, 0, -1, height, 0, 0, 1),
            SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, height, 0, 0, 1),
            SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightTop => new SKMatrix(0, -1, width, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, width, -1, 0, height, 0, 0, 1),
            SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, height, 0, 0, 1),
            _ => SKMatrix.Identity,
        };
        canvas.SetMatrix(matrix);
        canvas.DrawBitmap(bitmap, 0, 0);
        return upright;
    }
}
