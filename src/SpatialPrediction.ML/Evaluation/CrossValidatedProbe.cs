using Microsoft.ML;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>
/// The linear probe's (<c>SpatialEvaluation.LinearProbe</c>) accuracy estimated by k-fold cross-validation on one labelled set, with the folds
/// <see cref="StandardizedLinearProbe"/> draws (<see cref="CrossValidationFolds"/>), so two featurisers of the same rows
/// are scored on the same folds.
/// </summary>
internal static class CrossValidatedProbe
{
    /// <summary>Mean and standard deviation over the folds of the probe's accuracy on each held-out fold.</summary>
    public static (double Mean, double Std) Accuracy(MLContext mlContext, IReadOnlyList<float[]> features, IReadOnlyList<int> labels, int folds, int seed)
    {
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(folds), folds, "Cross-validation needs at least 2 folds.");
        if (features.Count != labels.Count) throw new ArgumentException($"{features.Count} feature rows but {labels.Count} labels.");
        if (features.Count < 2 * folds)
            throw new ArgumentException($"{features.Count} labelled rows are too few for {folds}-fold cross-validation: at least {2 * folds} are needed.");
        var fold = CrossValidationFolds.Assign(features.Count, folds, seed);

        var accuracies = new double[folds];
        for (int k = 0; k < folds; k++)
        {
            var train = Enumerable.Range(0, features.Count).Where(i => fold[i] != k).ToList();
            var test = Enumerable.Range(0, features.Count).Where(i => fold[i] == k).ToList();
            accuracies[k] = SpatialEvaluation.LinearProbe(mlContext, train.Select(i => features[i]).ToList(), train.Select(i => labels[i]).ToList(),
                test.Select(i => features[i]).ToList(), test.Select(i => labels[i]).ToList()).MicroAccuracy;
        }
        double mean = accuracies.Average();
        double std = Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / (folds - 1));
        return (mean, std);
    }
}
