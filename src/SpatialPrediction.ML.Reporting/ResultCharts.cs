using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;
using OxyPlot.SkiaSharp;

namespace SpatialPrediction.ML.Reporting;

/// <summary>
/// PNG charts of evaluation results, drawn with OxyPlot: grouped bars with ± error whiskers (one group per metric, one
/// bar per featuriser) and lines (a metric against a setting such as corruption severity).
/// </summary>
public static class ResultCharts
{
    private const int Width = 1000, PlotHeight = 420, LegendLineHeight = 20;

    /// <summary>Grouped bars: one group per metric, one bar per series, values in [0, 1].</summary>
    public static void Bars(string path, string title, IReadOnlyList<string> metrics, IReadOnlyList<(string Name, double[] Values)> series)
        => Bars(path, title, metrics, series.Select(s => (s.Name, s.Values, (double[]?)null)).ToList());

    /// <summary>
    /// Grouped bars with error bars: <c>Errors[m]</c> (for example the standard deviation over seeds) is drawn as a
    /// whisker of ± that size on bar m; a series without errors has none. Values outside [0, 1] are drawn clipped.
    /// </summary>
    public static void Bars(string path, string title, IReadOnlyList<string> metrics, IReadOnlyList<(string Name, double[] Values, double[]? Errors)> series)
    {
        foreach (var s in series)
            if (s.Values.Length != metrics.Count || s.Errors is { } e && e.Length != metrics.Count)
                throw new ArgumentException($"Series '{s.Name}' has {s.Values.Length} values for {metrics.Count} metrics.", nameof(series));
        var model = NewModel(title);
        // Labels wrap to the width of their group, so neighbours never run into each other.
        int charactersPerGroup = Math.Max(8, Width / Math.Max(1, metrics.Count) / 8);
        model.Axes.Add(new CategoryAxis
        {
            Position = AxisPosition.Bottom, Key = "metric", GapWidth = 0.3,
            ItemsSource = metrics.Select(m => Wrap(m, charactersPerGroup)).ToList(),
        });
        model.Axes.Add(new LinearAxis
        {
            Position = AxisPosition.Left, Key = "value", Minimum = 0, Maximum = 1, MajorStep = 0.25, MinorStep = 0.05,
            MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = OxyColor.FromAColor(60, OxyColors.Gray),
        });
        foreach (var s in series)
        {
            var bars = new ErrorBarSeries
            {
                Title = s.Name, XAxisKey = "value", YAxisKey = "metric", StrokeThickness = 0,
                ErrorStrokeThickness = 1.5, ErrorWidth = 0.3,
            };
            for (int m = 0; m < metrics.Count; m++)
                bars.Items.Add(new ErrorBarItem(Math.Clamp(s.Values[m], 0, 1), s.Errors is { } errors ? Math.Max(errors[m], 0) : 0));
            model.Series.Add(bars);
        }
        Save(model, path, series.Count);
    }

    /// <summary>Lines over x = 0 … n − 1 (e.g. severities), values in [0, 1].</summary>
    public static void Lines(string path, string title, string xLabel, IReadOnlyList<(string Name, double[] Values)> series)
    {
        var model = NewModel(title);
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = xLabel, MajorStep = 1, MinorStep = 1, Minimum = -0.2, Maximum = Math.Max(1, series.Max(s => s.Values.Length) - 1) + 0.2 });
        model.Axes.Add(new LinearAxis
        {
            Position = AxisPosition.Left, Minimum = 0, Maximum = 1, MajorStep = 0.25,
            MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = OxyColor.FromAColor(60, OxyColors.Gray),
        });
        foreach (var s in series)
        {
            var line = new LineSeries { Title = s.Name, StrokeThickness = 2.5, MarkerType = MarkerType.Circle, MarkerSize = 3 };
            for (int i = 0; i < s.Values.Length; i++) line.Points.Add(new DataPoint(i, Math.Clamp(s.Values[i], 0, 1)));
            model.Series.Add(line);
        }
        Save(model, path, series.Count);
    }

    private static PlotModel NewModel(string title)
    {
        var model = new PlotModel { Title = title, TitleFontSize = 16, Background = OxyColors.White, DefaultFont = "DejaVu Sans" };
        // One legend line per series under the plot: long featuriser names stay readable.
        model.Legends.Add(new Legend
        {
            LegendPlacement = LegendPlacement.Outside, LegendPosition = LegendPosition.BottomLeft,
            LegendOrientation = LegendOrientation.Vertical, LegendFontSize = 13,
        });
        return model;
    }

    /// <summary>Breaks <paramref name="label"/> into lines of at most <paramref name="width"/> characters at spaces.</summary>
    internal static string Wrap(string label, int width)
    {
        var lines = new List<string>();
        string line = "";
        foreach (string word in label.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = line.Length == 0 ? word : line + " " + word;
            if (line.Length > 0 && candidate.Length > width)
            {
                lines.Add(line);
                line = word;
            }
            else line = candidate;
        }
        lines.Add(line);
        return string.Join("\n", lines);
    }

    private static void Save(PlotModel model, string path, int seriesCount)
    {
        var exporter = new PngExporter { Width = Width, Height = PlotHeight + 90 + LegendLineHeight * seriesCount };
        string temporary = path + ".tmp";
        using (var file = File.Create(temporary)) exporter.Export(model, file);
        File.Move(temporary, path, overwrite: true);
    }
}
