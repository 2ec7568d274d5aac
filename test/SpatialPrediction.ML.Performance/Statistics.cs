namespace SpatialPrediction.ML.Performance;

internal static class Statistics
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new InvalidOperationException("No timings to take the median of.");
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Median seconds of <paramref name="repeats"/> runs of <paramref name="action"/> after one untimed warm-up run.</summary>
    public static double MedianSeconds(Action action, int repeats)
    {
        action();
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            action();
            times.Add(clock.Elapsed.TotalSeconds);
        }
        return Median(times);
    }
}
