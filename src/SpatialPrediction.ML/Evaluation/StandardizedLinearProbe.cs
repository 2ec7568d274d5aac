using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>
/// A linear probe that does not rest on one regularisation setting: features z-scored (mean 0, variance 1 per
/// dimension, from the training features), ML.NET's <c>LbfgsMaximumEntropy</c> with the L2 penalty chosen by k-fold
/// cross-validation on the training features only. Fit once, evaluate on as many test sets as needed.
/// </summary>
/// <example>
/// <code>
/// var probe = StandardizedLinearProbe.Fit(mlContext, trainFeatures, trainLabels);
/// double accuracy = probe.Evaluate(testFeatures, testLabels).MicroAccuracy;
/// </code>
/// </example>
public sealed class StandardizedLinearProbe
{
    /// <summary>The L2 penalties tried by default.</summary>
    public static IReadOnlyList<float> DefaultPenalties { get; } = new[] { 1e-3f, 1e-2f, 1e-1f, 1f };

    private readonly MLContext mlContext;
    private readonly FittedLinearProbe probe;

    private StandardizedLinearProbe(MLContext mlContext, FittedLinearProbe probe, float penalty, IReadOnlyList<(float Penalty, double Accuracy)> scores)
    {
        this.mlContext = mlContext;
        this.probe = probe;
        Penalty = penalty;
        CrossValidation = scores;
    }

    /// <summary>The L2 penalty cross-validation chose.</summary>
    public float Penalty { get; }

    /// <summary>Mean held-out-fold accuracy of every penalty tried.</summary>
    public IReadOnlyList<(float Penalty, double Accuracy)> CrossValidation { get; }

    /// <summary>
    /// Chooses the penalty among <paramref name="penalties"/> by <paramref name="folds"/>-fold cross-validation on the
    /// training features (folds drawn with <paramref name="seed"/>), then fits on all of them.
    /// </summary>
    public static StandardizedLinearProbe Fit(MLContext mlContext, IReadOnlyList<float[]> features, IReadOnlyList<int> labels,
        IReadOnlyList<float>? penalties = null, int folds = 3, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        FeatureTable.CheckShape(features, labels.Count, "StandardizedLinearProbe training set");
        penalties ??= DefaultPenalties;
        if (penalties.Count == 0 || penalties.Any(p => !(p >= 0)))
            throw new ArgumentException("StandardizedLinearProbe: penalties must be a non-empty list of numbers >= 0.", nameof(penalties));
        if (folds < 2 || folds > labels.Count)
            throw new ArgumentOutOfRangeException(nameof(folds), folds, $"StandardizedLinearProbe: folds must be between 2 and the number of rows ({labels.Count}).");
        var fold = CrossValidationFolds.Assign(labels.Count, folds, seed);

        var scores = new List<(float, double)>();
        foreach (float penalty in penalties)
        {
            double correct = 0;
            for (int k = 0; k < folds; k++)
            {
                var train = Enumerable.Range(0, labels.Count).Where(i => fold[i] != k).ToList();
                var held = Enumerable.Range(0, labels.Count).Where(i => fold[i] == k).ToList();
                // A fold whose training part lacks a class still scores: the probe just cannot predict that class.
                if (train.Select(i => labels[i]).Distinct().Count() < 2) continue;
                var fitted = FitOne(mlContext, train.Select(i => features[i]).ToList(), train.Select(i => labels[i]).ToList(), penalty);
                var heldLabels = held.Select(i => labels[i]).ToList();
                var known = held.Where((_, j) => fitted.Classes.Contains(heldLabels[j])).ToList();
                if (known.Count == 0) continue;
                var metrics = fitted.Probe.Evaluate(mlContext, known.Select(i => features[i]).ToList(), known.Select(i => labels[i]).ToList());
                correct += metrics.MicroAccuracy * known.Count;
            }
            scores.Add((penalty, correct / labels.Count));
        }
        float best = scores.OrderByDescending(s => s.Item2).ThenByDescending(s => s.Item1).First().Item1;
        return new StandardizedLinearProbe(mlContext, FitOne(mlContext, features, labels, best).Probe, best, scores);
    }

    /// <summary>Accuracy and the other multiclass metrics on (<paramref name="features"/>, <paramref name="labels"/>).</summary>
    public MulticlassClassificationMetrics Evaluate(IReadOnlyList<float[]> features, IReadOnlyList<int> labels)
        => probe.Evaluate(mlContext, features, labels);

    private static (FittedLinearProbe Probe, HashSet<int> Classes) FitOne(MLContext mlContext, IReadOnlyList<float[]> features, IReadOnlyList<int> labels, float penalty)
        => (SpatialEvaluation.FitLinearProbe(mlContext, features, labels, penalty, standardize: true), labels.ToHashSet());
}
