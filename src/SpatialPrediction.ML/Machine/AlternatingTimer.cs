using System.Diagnostics;

namespace SpatialPrediction.ML.Machine;

/// <summary>
/// Times candidates in alternating passes, round after round, so that a busy spell of a shared machine hits all of them
/// alike; the first round warms up (oneDNN builds its kernels, ONNX Runtime plans its graph) and is not counted.
/// </summary>
internal static class AlternatingTimer
{
    /// <summary>Each candidate's median pass in milliseconds, in the order given.</summary>
    public static List<(T Candidate, double Milliseconds)> Medians<T>(IReadOnlyList<T> candidates, Action<T> pass, int rounds) where T : notnull
    {
        var times = candidates.ToDictionary(c => c, _ => new List<double>());
        for (int round = 0; round < rounds; round++)
        foreach (var candidate in candidates)
        {
            var clock = Stopwatch.StartNew();
            pass(candidate);
            if (round > 0) times[candidate].Add(clock.Elapsed.TotalMilliseconds);
        }
        return candidates.Select(c => (c, times[c].Order().ElementAt(times[c].Count / 2))).ToList();
    }
}
