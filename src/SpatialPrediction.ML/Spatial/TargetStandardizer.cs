namespace SpatialPrediction.ML.Spatial;

/// <summary>
/// Per-target mean and standard deviation of the SP targets under a given sampler, estimated once from a fixed number
/// of draws with a fixed seed, so that the four targets weigh equally in the loss whatever their natural ranges.
/// </summary>
internal sealed class TargetStandardizer
{
    /// <summary>Creates a standardiser from known statistics.</summary>
    public TargetStandardizer(float[] mean, float[] std)
    {
        if (mean.Length != RelativeBoxTargets.Count || std.Length != RelativeBoxTargets.Count)
            throw new ArgumentException($"Expected {RelativeBoxTargets.Count} means and standard deviations.");
        if (std.Any(s => !(s > 0)))
            throw new ArgumentException("Every target standard deviation must be positive.", nameof(std));
        Mean = mean;
        Std = std;
    }

    /// <summary>Side of the square picture the statistics are estimated in.</summary>
    public const int EstimationSide = 1024;

    /// <summary>Mean of each target.</summary>
    public float[] Mean { get; }
    /// <summary>Standard deviation of each target.</summary>
    public float[] Std { get; }

    /// <summary>
    /// Estimates the statistics from <paramref name="draws"/> pairs of the sampler, drawn in a square picture of
    /// <see cref="EstimationSide"/> px (fine enough that rounding boxes to whole pixels does not move them).
    /// </summary>
    public static TargetStandardizer Estimate(SpatialViewPairSampler sampler, TargetParameterization parameterization, int draws = 4096, int seed = 20260)
        => Estimate(random => sampler.Sample(random, EstimationSide, EstimationSide), parameterization, draws, seed);

    /// <summary>The statistics of <paramref name="draws"/> pairs from <paramref name="draw"/> (boxes in a picture of <see cref="EstimationSide"/> px).</summary>
    public static TargetStandardizer Estimate(Func<Random, ViewPair> draw, TargetParameterization parameterization, int draws = 4096, int seed = 20260)
    {
        var random = new Random(seed);
        var sum = new double[RelativeBoxTargets.Count];
        var sumSquares = new double[RelativeBoxTargets.Count];
        for (int i = 0; i < draws; i++)
        {
            var t = RelativeBoxTargets.Compute(draw(random), parameterization);
            for (int k = 0; k < t.Length; k++)
            {
                sum[k] += t[k];
                sumSquares[k] += (double)t[k] * t[k];
            }
        }
        var mean = new float[RelativeBoxTargets.Count];
        var std = new float[RelativeBoxTargets.Count];
        for (int k = 0; k < mean.Length; k++)
        {
            double m = sum[k] / draws;
            mean[k] = (float)m;
            std[k] = (float)Math.Max(Math.Sqrt(Math.Max(0, sumSquares[k] / draws - m * m)), 1e-6);
        }
        return new TargetStandardizer(mean, std);
    }

    /// <summary>(t - mean) / std for one target vector, written into <paramref name="destination"/>.</summary>
    public void Standardize(ReadOnlySpan<float> targets, Span<float> destination)
    {
        for (int k = 0; k < RelativeBoxTargets.Count; k++) destination[k] = (targets[k] - Mean[k]) / Std[k];
    }
}
