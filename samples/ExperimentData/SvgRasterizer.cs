using System.Xml;
using SkiaSharp;
using Svg.Skia;

namespace SpatialPrediction.ML.ExperimentData;

/// <summary>
/// Renders an SVG drawing (OpenMoji's emoji) to a square PNG with Svg.Skia: the view box scaled to fit and centred,
/// the rest transparent. A document that is not SVG, or that Svg.Skia cannot draw, is rejected with the file named.
/// </summary>
public static class SvgRasterizer
{
    /// <summary>
    /// Renders the SVG file <paramref name="svg"/> to the PNG file <paramref name="png"/> (its folder created); false, and
    /// nothing written, for a drawing the renderer cannot read.
    /// </summary>
    public static bool TryRenderFile(string svg, string png, int size)
    {
        byte[] bytes;
        try
        {
            bytes = RenderPng(File.ReadAllText(svg), size, svg);
        }
        catch (InvalidDataException)
        {
            return false;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(png)!);
        File.WriteAllBytes(png, bytes);
        return true;
    }

    /// <summary>Renders <paramref name="svg"/> onto a transparent square of <paramref name="size"/> pixels, encoded as PNG.</summary>
    /// <param name="svg">The SVG document text.</param>
    /// <param name="size">Side of the output in pixels.</param>
    /// <param name="source">Name of the file, for error messages.</param>
    public static byte[] RenderPng(string svg, int size, string source = "(svg)")
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "The output size must be at least 1 pixel.");
        CheckIsSvg(svg, source);
        using var document = new SKSvg();
        SKPicture? picture;
        try
        {
            using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(svg));
            picture = document.Load(stream);
        }
        catch (Exception e) when (e is XmlException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new InvalidDataException($"{source}: Svg.Skia could not read the drawing ({e.Message}).", e);
        }
        var bounds = picture?.CullRect ?? SKRect.Empty;
        if (picture is null || bounds.Width <= 0 || bounds.Height <= 0)
            throw new InvalidDataException($"{source}: the drawing has no size (no viewBox, width or height).");

        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Transparent);
            float scale = size / Math.Max(bounds.Width, bounds.Height);
            canvas.Translate((size - bounds.Width * scale) / 2, (size - bounds.Height * scale) / 2);
            canvas.Scale(scale);
            canvas.Translate(-bounds.Left, -bounds.Top);
            canvas.DrawPicture(picture);
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    /// <summary>Svg.Skia draws nothing for malformed XML or a non-SVG root; those are errors here.</summary>
    private static void CheckIsSvg(string svg, string source)
    {
        try
        {
            using var reader = XmlReader.Create(new StringReader(svg), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null });
            reader.MoveToContent();
            if (reader.LocalName != "svg") throw new InvalidDataException($"{source}: the root element is <{reader.LocalName}>, not <svg>.");
            while (reader.Read()) { }
        }
        catch (XmlException e)
        {
            throw new InvalidDataException($"{source}: not well-formed XML ({e.Message}).", e);
        }
    }
}
