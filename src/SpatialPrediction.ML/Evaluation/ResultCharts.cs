using SkiaSharp;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>
/// Minimal PNG charts of evaluation results, drawn with the SkiaSharp that ML.NET's image support already brings: grouped
/// bars (one group per metric, one bar per featuriser) and lines (a metric against a setting such as severity).
/// </summary>
public static class ResultCharts
{
    private static readonly SKColor[] Palette =
    {
        new(0x1f, 0x77, 0xb4), new(0xff, 0x7f, 0x0e), new(0x2c, 0xa0, 0x2c), new(0xd6, 0x27, 0x28), new(0x94, 0x67, 0xbd),
        new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f), new(0xbc, 0xbd, 0x22), new(0x17, 0xbe, 0xcf),
    };

    /// <summary>Grouped bars: one group per metric, one bar per series, values in [0, 1].</summary>
    public static void Bars(string path, string title, IReadOnlyList<string> metrics, IReadOnlyList<(string Name, double[] Values)> series)
        => Bars(path, title, metrics, series.Select(s => (s.Name, s.Values, (double[]?)null)).ToList());

    /// <summary>
    /// Grouped bars with error bars: <c>Errors[m]</c> (for example the standard deviation over seeds) is drawn as a
    /// whisker of ± that size on bar m; a series without errors has none.
    /// </summary>
    public static void Bars(string path, string title, IReadOnlyList<string> metrics, IReadOnlyList<(string Name, double[] Values, double[]? Errors)> series)
    {
        // One legend line per series under the plot, so long names never run into each other.
        const int width = 900, left = 60, top = 50, plot = 350;
        int bottom = 86 + 18 * series.Count, height = top + plot + bottom;
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        DrawFrame(canvas, title, width, height, left, bottom, top);
        double groupWidth = (width - left - 20.0) / metrics.Count;
        double barWidth = groupWidth * 0.8 / series.Count;
        using var text = new SKPaint { Color = SKColors.Black, TextSize = 13, IsAntialias = true };
        for (int m = 0; m < metrics.Count; m++)
        {
            for (int s = 0; s < series.Count; s++)
            {
                double value = Math.Clamp(series[s].Values[m], 0, 1);
                float x = (float)(left + m * groupWidth + groupWidth * 0.1 + s * barWidth);
                float y = (float)(height - bottom - value * (height - bottom - top));
                using var paint = new SKPaint { Color = Palette[s % Palette.Length] };
                canvas.DrawRect(x, y, (float)barWidth - 2, height - bottom - y, paint);
                if (series[s].Errors is { } errors && errors[m] > 0)
                {
                    float scale = height - bottom - top, middle = x + (float)(barWidth - 2) / 2;
                    float low = (float)(height - bottom - Math.Clamp(series[s].Values[m] - errors[m], 0, 1) * scale);
                    float high = (float)(height - bottom - Math.Clamp(series[s].Values[m] + errors[m], 0, 1) * scale);
                    using var whisker = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, IsAntialias = true };
                    canvas.DrawLine(middle, low, middle, high, whisker);
                    canvas.DrawLine(middle - 3, low, middle + 3, low, whisker);
                    canvas.DrawLine(middle - 3, high, middle + 3, high, whisker);
                }
            }
            // The default font may lack superscripts; spell them out. Long labels take two lines.
            var lines = Wrap(metrics[m].Replace("²", "^2"), text, (float)groupWidth - 6);
            for (int l = 0; l < lines.Count; l++)
                canvas.DrawText(lines[l], (float)(left + m * groupWidth + groupWidth * 0.05), height - bottom + 20 + 16 * l, text);
        }
        using var legend = new SKPaint { Color = SKColors.Black, TextSize = 13, IsAntialias = true };
        for (int s = 0; s < series.Count; s++)
        {
            float y = height - bottom + 74 + 18 * s;
            using var paint = new SKPaint { Color = Palette[s % Palette.Length] };
            canvas.DrawRect(left, y - 10, 12, 12, paint);
            canvas.DrawText(series[s].Name, left + 16, y, legend);
        }
        Save(surface, path);
    }

    /// <summary>Lines over x = 0 … n − 1 (e.g. severities), values in [0, 1].</summary>
    public static void Lines(string path, string title, string xLabel, IReadOnlyList<(string Name, double[] Values)> series)
    {
        // One legend line per series under the plot, so long names never run into each other.
        const int width = 900, left = 60, top = 50, plot = 350;
        int bottom = 86 + 18 * series.Count, height = top + plot + bottom;
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        DrawFrame(canvas, title, width, height, left, bottom, top);
        int points = series.Max(s => s.Values.Length);
        float X(int i) => left + 20 + i * (width - left - 60f) / Math.Max(1, points - 1);
        float Y(double v) => (float)(height - bottom - Math.Clamp(v, 0, 1) * (height - bottom - top));
        using var text = new SKPaint { Color = SKColors.Black, TextSize = 13, IsAntialias = true };
        for (int i = 0; i < points; i++) canvas.DrawText(i.ToString(), X(i) - 4, height - bottom + 20, text);
        canvas.DrawText(xLabel, width / 2f - 30, height - bottom + 40, text);
        for (int s = 0; s < series.Count; s++)
        {
            using var paint = new SKPaint { Color = Palette[s % Palette.Length], StrokeWidth = 3, IsAntialias = true, Style = SKPaintStyle.Stroke };
            for (int i = 1; i < series[s].Values.Length; i++)
                canvas.DrawLine(X(i - 1), Y(series[s].Values[i - 1]), X(i), Y(series[s].Values[i]), paint);
        }
        DrawLegend(canvas, series.Select(s => s.Name).ToList(), left, height - 15);
        Save(surface, path);
    }

    private static void DrawFrame(SKCanvas canvas, string title, int width, int height, int left, int bottom, int top)
    {
        using var axis = new SKPaint { Color = SKColors.Gray, StrokeWidth = 1 };
        using var text = new SKPaint { Color = SKColors.Black, TextSize = 13, IsAntialias = true };
        using var heading = new SKPaint { Color = SKColors.Black, TextSize = 18, IsAntialias = true, FakeBoldText = true };
        canvas.DrawText(title, left, 30, heading);
        for (int tick = 0; tick <= 4; tick++)
        {
            float y = height - bottom - tick / 4f * (height - bottom - top);
            canvas.DrawLine(left, y, width - 10, y, axis);
            canvas.DrawText((tick / 4.0).ToString("0.00"), 10, y + 4, text);
        }
    }

    /// <summary>Word-wraps a label into lines no wider than <paramref name="room"/> (a single word may exceed it).</summary>
    private static List<string> Wrap(string label, SKPaint paint, float room)
    {
        var lines = new List<string>();
        string line = "";
        foreach (string word in label.Split(' '))
        {
            string candidate = line.Length == 0 ? word : line + " " + word;
            if (line.Length > 0 && paint.MeasureText(candidate) > room)
            {
                lines.Add(line);
                line = word;
            }
            else line = candidate;
        }
        lines.Add(line);
        return lines;
    }

    private static void DrawLegend(SKCanvas canvas, IReadOnlyList<string> names, float x, float y)
    {
        using var text = new SKPaint { Color = SKColors.Black, TextSize = 13, IsAntialias = true };
        for (int s = 0; s < names.Count; s++)
        {
            using var paint = new SKPaint { Color = Palette[s % Palette.Length] };
            canvas.DrawRect(x, y - 10, 12, 12, paint);
            canvas.DrawText(names[s], x + 16, y, text);
            x += 30 + text.MeasureText(names[s]);
        }
    }

    private static void Save(SKSurface surface, string path)
    {
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
