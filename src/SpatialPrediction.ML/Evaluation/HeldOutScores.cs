namespace SpatialPrediction.ML.Evaluation;

/// <summary>R² and mean absolute error of regression targets on held-out rows: what the probes report.</summary>
internal static class HeldOutScores
{
    /// <summary>One <see cref="TargetScore"/> per target column of <paramref name="actual"/>, named by <paramref name="names"/>.</summary>
    public static List<TargetScore> Of(IReadOnlyList<string> names, IReadOnlyList<double[]> predicted, IReadOnlyList<float[]> actual,
        IReadOnlyList<double> penalties)
    {
        var scores = new List<TargetScore>();
        for (int k = 0; k < names.Count; k++)
        {
            double mean = actual.Average(t => (double)t[k]);
            double residual = 0, total = 0, absolute = 0;
            for (int i = 0; i < actual.Count; i++)
            {
                double error = predicted[i][k] - actual[i][k];
                residual += error * error;
                absolute += Math.Abs(error);
                total += (actual[i][k] - mean) * (actual[i][k] - mean);
            }
            scores.Add(new TargetScore(names[k], total > 0 ? 1 - residual / total : 0, absolute / actual.Count, penalties[k]));
        }
        return scores;
    }
}
