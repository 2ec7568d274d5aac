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

    /// <summary>
    /// Seconds of each of <paramref name="count"/> passes (<paramref name="run"/> given its index) over
    /// <paramref name="rounds"/> rounds in which the passes take turns, so a slow spell of a shared machine hits all
    /// alike: <c>seconds[pass][round]</c>. No warm-up; run one before.
    /// </summary>
    public static List<List<double>> AlternatingSeconds(int count, Action<int> run, int rounds)
    {
        var seconds = Enumerable.Range(0, count).Select(_ => new List<double>()).ToList();
        for (int round = 0; round < rounds; round++)
        {
            for (int i = 0; i < count; i++)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                run(i);
                seconds[i].Add(clock.Elapsed.TotalSeconds);
            }
        }
        return seconds;
    }
}
