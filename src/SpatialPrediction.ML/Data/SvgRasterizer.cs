using System.Globalization;
using System.Xml.Linq;
using SkiaSharp;

namespace SpatialPrediction.ML.Data;

/// <summary>
/// Renders the subset of SVG that icon sets such as OpenMoji are drawn in (groups with transforms; path, circle, ellipse,
/// rect, line, polyline and polygon; solid fills and strokes with width, caps, joins, miter limit, opacity and the
/// even-odd rule) to a PNG of a given size, with the SkiaSharp that ML.NET's image support already brings. Gradients,
/// masks, clip paths, text, <c>use</c> and CSS <c>style</c> attributes are outside the subset: a file that needs them is
/// rejected with <see cref="NotSupportedException"/> naming the element or attribute, rather than drawn wrongly.
/// </summary>
public static class SvgRasterizer
{
    private static readonly HashSet<string> Shapes = new(StringComparer.Ordinal) { "path", "circle", "ellipse", "rect", "line", "polyline", "polygon" };
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal) { "title", "desc", "metadata" };

    /// <summary>Renders <paramref name="svg"/> onto a transparent square of <paramref name="size"/> pixels, encoded as PNG.</summary>
    /// <param name="svg">The SVG document text.</param>
    /// <param name="size">Side of the output in pixels; the view box is scaled to fit it.</param>
    /// <param name="source">Name of the file, for error messages.</param>
    public static byte[] RenderPng(string svg, int size, string source = "(svg)")
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "The output size must be at least 1 pixel.");
        XElement root;
        try
        {
            root = XElement.Parse(svg);
        }
        catch (System.Xml.XmlException e)
        {
            throw new InvalidDataException($"{source}: not well-formed SVG/XML ({e.Message}).", e);
        }
        if (root.Name.LocalName != "svg") throw new InvalidDataException($"{source}: the root element is <{root.Name.LocalName}>, expected <svg>.");
        var viewBox = Numbers((string?)root.Attribute("viewBox") ?? $"0 0 {(string?)root.Attribute("width") ?? "0"} {(string?)root.Attribute("height") ?? "0"}", source);
        if (viewBox.Length != 4 || viewBox[2] <= 0 || viewBox[3] <= 0)
            throw new InvalidDataException($"{source}: needs a viewBox (or width and height) with a positive size.");

        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Transparent);
            float scale = size / Math.Max(viewBox[2], viewBox[3]);
            canvas.Scale(scale);
            canvas.Translate(-viewBox[0], -viewBox[1]);
            Draw(canvas, root, Paint.Initial, source);
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Presentation attributes as they are inherited down the tree.</summary>
    private sealed record Paint(SKColor? Fill, SKColor? Stroke, float StrokeWidth, SKStrokeCap Cap, SKStrokeJoin Join, float MiterLimit,
        float Opacity, float FillOpacity, float StrokeOpacity, SKPathFillType FillRule)
    {
        public static Paint Initial { get; } = new(SKColors.Black, null, 1, SKStrokeCap.Butt, SKStrokeJoin.Miter, 4, 1, 1, 1, SKPathFillType.Winding);
    }

    private static void Draw(SKCanvas canvas, XElement element, Paint inherited, string source)
    {
        if ((string?)element.Attribute("style") is { Length: > 0 })
            throw new NotSupportedException($"{source}: CSS 'style' attributes are outside the supported SVG subset.");
        if ((string?)element.Attribute("display") == "none") return;
        var paint = Apply(element, inherited, source);
        canvas.Save();
        if ((string?)element.Attribute("transform") is { Length: > 0 } transform)
        {
            var matrix = ParseTransform(transform, source);
            canvas.Concat(ref matrix);
        }
        string name = element.Name.LocalName;
        if (name is "svg" or "g")
        {
            foreach (var child in element.Elements()) Draw(canvas, child, paint, source);
        }
        else if (Shapes.Contains(name))
        {
            using var path = Geometry(element, name, source);
            path.FillType = paint.FillRule;
            if (paint.Fill is { } fill)
            {
                using var brush = Brush(fill, paint.Opacity * paint.FillOpacity, SKPaintStyle.Fill, paint);
                canvas.DrawPath(path, brush);
            }
            if (paint.Stroke is { } stroke && paint.StrokeWidth > 0)
            {
                using var pen = Brush(stroke, paint.Opacity * paint.StrokeOpacity, SKPaintStyle.Stroke, paint);
                canvas.DrawPath(path, pen);
            }
        }
        else if (!Ignored.Contains(name))
        {
            throw new NotSupportedException($"{source}: <{name}> is outside the supported SVG subset.");
        }
        canvas.Restore();
    }

    private static SKPaint Brush(SKColor color, float opacity, SKPaintStyle style, Paint paint) => new()
    {
        IsAntialias = true,
        Style = style,
        Color = color.WithAlpha((byte)Math.Round(color.Alpha * Math.Clamp(opacity, 0, 1))),
        StrokeWidth = paint.StrokeWidth,
        StrokeCap = paint.Cap,
        StrokeJoin = paint.Join,
        StrokeMiter = paint.MiterLimit,
    };

    private static Paint Apply(XElement e, Paint p, string source)
    {
        string? Get(string name) => (string?)e.Attribute(name);
        // Opacity multiplies down groups (an approximation of group compositing that is exact for non-overlapping shapes).
        return p with
        {
            Fill = Get("fill") is { } fill ? ParseColor(fill, source) : p.Fill,
            Stroke = Get("stroke") is { } stroke ? ParseColor(stroke, source) : p.Stroke,
            StrokeWidth = Get("stroke-width") is { } width ? Number(width, source) : p.StrokeWidth,
            Cap = Get("stroke-linecap") switch { "round" => SKStrokeCap.Round, "square" => SKStrokeCap.Square, "butt" => SKStrokeCap.Butt, _ => p.Cap },
            Join = Get("stroke-linejoin") switch { "round" => SKStrokeJoin.Round, "bevel" => SKStrokeJoin.Bevel, "miter" => SKStrokeJoin.Miter, _ => p.Join },
            MiterLimit = Get("stroke-miterlimit") is { } miter ? Number(miter, source) : p.MiterLimit,
            Opacity = p.Opacity * (Get("opacity") is { } o ? Number(o, source) : 1),
            FillOpacity = Get("fill-opacity") is { } fo ? Number(fo, source) : p.FillOpacity,
            StrokeOpacity = Get("stroke-opacity") is { } so ? Number(so, source) : p.StrokeOpacity,
            FillRule = Get("fill-rule") switch { "evenodd" => SKPathFillType.EvenOdd, "nonzero" => SKPathFillType.Winding, _ => p.FillRule },
        };
    }

    private static SKPath Geometry(XElement e, string name, string source)
    {
        float Get(string attribute, float fallback = 0) => (string?)e.Attribute(attribute) is { } text ? Number(text, source) : fallback;
        var path = new SKPath();
        switch (name)
        {
            case "path":
                var parsed = SKPath.ParseSvgPathData((string?)e.Attribute("d") ?? "")
                             ?? throw new InvalidDataException($"{source}: a <path> has path data SkiaSharp cannot parse.");
                path.Dispose();
                return parsed;
            case "circle":
                path.AddCircle(Get("cx"), Get("cy"), Get("r"));
                break;
            case "ellipse":
                path.AddOval(SKRect.Create(Get("cx") - Get("rx"), Get("cy") - Get("ry"), 2 * Get("rx"), 2 * Get("ry")));
                break;
            case "rect":
                var rect = SKRect.Create(Get("x"), Get("y"), Get("width"), Get("height"));
                float rx = Get("rx", float.NaN), ry = Get("ry", float.NaN);
                if (float.IsNaN(rx)) rx = float.IsNaN(ry) ? 0 : ry; // one radius given: SVG uses it for both
                if (float.IsNaN(ry)) ry = rx;
                if (rx > 0 || ry > 0) path.AddRoundRect(rect, rx, ry);
                else path.AddRect(rect);
                break;
            case "line":
                path.MoveTo(Get("x1"), Get("y1"));
                path.LineTo(Get("x2"), Get("y2"));
                break;
            default: // polyline, polygon
                var points = Numbers((string?)e.Attribute("points") ?? "", source);
                for (int i = 0; i + 1 < points.Length; i += 2)
                {
                    if (i == 0) path.MoveTo(points[0], points[1]);
                    else path.LineTo(points[i], points[i + 1]);
                }
                if (name == "polygon") path.Close();
                break;
        }
        return path;
    }

    /// <summary>SVG <c>transform</c> list: matrix, translate, scale, rotate (with optional centre), applied left to right.</summary>
    internal static SKMatrix ParseTransform(string text, string source)
    {
        var result = SKMatrix.Identity;
        int position = 0;
        while (position < text.Length)
        {
            int open = text.IndexOf('(', position);
            if (open < 0)
            {
                if (text[position..].Trim(' ', ',', '\t', '\n', '\r').Length > 0) throw new InvalidDataException($"{source}: cannot read transform '{text}'.");
                break;
            }
            int close = text.IndexOf(')', open);
            if (close < 0) throw new InvalidDataException($"{source}: unclosed '(' in transform '{text}'.");
            string kind = text[position..open].Trim(' ', ',', '\t', '\n', '\r');
            var v = Numbers(text[(open + 1)..close], source);
            SKMatrix step = (kind, v.Length) switch
            {
                ("matrix", 6) => new SKMatrix(v[0], v[2], v[4], v[1], v[3], v[5], 0, 0, 1),
                ("translate", 1) => SKMatrix.CreateTranslation(v[0], 0),
                ("translate", 2) => SKMatrix.CreateTranslation(v[0], v[1]),
                ("scale", 1) => SKMatrix.CreateScale(v[0], v[0]),
                ("scale", 2) => SKMatrix.CreateScale(v[0], v[1]),
                ("rotate", 1) => SKMatrix.CreateRotationDegrees(v[0]),
                ("rotate", 3) => SKMatrix.CreateRotationDegrees(v[0], v[1], v[2]),
                _ => throw new NotSupportedException($"{source}: transform '{kind}' with {v.Length} values is outside the supported SVG subset."),
            };
            result = result.PreConcat(step);
            position = close + 1;
        }
        return result;
    }

    private static SKColor? ParseColor(string text, string source)
    {
        text = text.Trim();
        if (text == "none") return null;
        if (text.StartsWith('#') && (text.Length == 4 || text.Length == 7) && SKColor.TryParse(text, out var hex)) return hex;
        return text.ToLowerInvariant() switch
        {
            "black" => SKColors.Black,
            "white" => SKColors.White,
            "red" => SKColors.Red,
            "transparent" => SKColors.Transparent,
            _ => throw new NotSupportedException($"{source}: colour '{text}' is outside the supported SVG subset (#rgb, #rrggbb, none, a few names)."),
        };
    }

    private static float Number(string text, string source)
    {
        string trimmed = text.Trim();
        if (trimmed.EndsWith("px", StringComparison.Ordinal)) trimmed = trimmed[..^2];
        return float.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out float value)
            ? value : throw new InvalidDataException($"{source}: '{text}' is not a number.");
    }

    private static float[] Numbers(string text, string source)
        => text.Split(new[] { ' ', ',', '\t', '\n', '\r' }, StringSplitOptions.RemoveEmptyEntries).Select(t => Number(t, source)).ToArray();
}
