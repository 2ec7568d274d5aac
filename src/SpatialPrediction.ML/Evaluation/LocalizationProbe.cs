using Microsoft.ML.Data;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>Settings of <see cref="SpatialEvaluation.LocalizationProbe"/>.</summary>
public sealed record LocalizationOptions
{
    /// <summary>How the composites are made (side, object scales, seed).</summary>
    public ObjectCompositeOptions Composites { get; init; } = new();
    /// <summary>Composites of each object. Default 2.</summary>
    public int CompositesPerObject { get; init; } = 2;
    /// <summary>Share of the objects whose composites train the regressors; the other objects' are held out. Default 0.5.</summary>
    public double TrainFraction { get; init; } = 0.5;
    /// <summary>Ridge penalties to choose from per target by cross-validation on the training composites (grouped by object).</summary>
    public IReadOnlyList<double> RidgePenalties { get; init; } = RidgeRegression.DefaultPenalties;
    /// <summary>Folds of that cross-validation. Default 5.</summary>
    public int CrossValidationFolds { get; init; } = 5;
}

/// <summary>The localisation probe's result: R² and MAE per box target on held-out objects, and the boxes' mean IoU.</summary>
/// <param name="Targets">Centre x, centre y, log width, log height.</param>
/// <param name="MeanIntersectionOverUnion">Mean IoU of the predicted box with the true one over the held-out composites.</param>
/// <param name="TrainingComposites">Composites the regressors were fitted on.</param>
/// <param name="TestComposites">Held-out composites scored.</param>
public sealed record LocalizationReport(IReadOnlyList<TargetScore> Targets, double MeanIntersectionOverUnion, int TrainingComposites, int TestComposites)
{
    /// <summary>Mean R² over the four targets.</summary>
    public double MeanRSquared => Targets.Average(t => t.RSquared);
}

public static partial class SpatialEvaluation
{
    /// <summary>The targets, in order.</summary>
    public static IReadOnlyList<string> LocalizationTargetNames { get; } = new[] { "center_x", "center_y", "log_w", "log_h" };

    /// <summary>Runs the probe on composites of <paramref name="objects"/> on <paramref name="backgrounds"/>.</summary>
    /// <remarks>
    /// Where is the object? Objects with transparency are pasted onto photographs at random positions and sizes
    /// (<see cref="ObjectComposites"/>); a ridge regressor per target on the frozen features of whole composites — the
    /// pooled vector an ML.NET pipeline gets — predicts the object's box (centre, log width, log height). Fitted on the
    /// composites of some objects (penalty by cross-validation grouped by object), scored on those of the others: R², MAE
    /// and the mean IoU of predicted and true boxes. A featuriser that keeps where things are scores high; one that keeps
    /// only what they are scores near 0 R².
    /// </remarks>
    public static LocalizationReport LocalizationProbe(ImageFeaturizer featurizer, IReadOnlyList<MLImage> objects, IReadOnlyList<MLImage> backgrounds,
        LocalizationOptions? options = null)
    {
        options ??= new LocalizationOptions();
        if (objects.Count < 4) throw new ArgumentException($"LocalizationProbe needs at least 4 objects (some to fit, some to test); got {objects.Count}.", nameof(objects));
        if (!(options.TrainFraction > 0 && options.TrainFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.TrainFraction, "TrainFraction must be in (0, 1).");
        int trainObjects = Math.Clamp((int)Math.Round(objects.Count * options.TrainFraction), 2, objects.Count - 1);
        var composites = ObjectComposites(objects, backgrounds, options.CompositesPerObject, options.Composites);
        var features = FeaturizeAndRelease(featurizer.Invoke, composites.Select(c => c.Image).ToList());
        if (features.Length != composites.Count)
            throw new InvalidOperationException($"The featuriser returned {features.Length} vectors for {composites.Count} composites.");
        var targets = composites.Select(c => Targets(c.Box)).ToList();
        var train = Enumerable.Range(0, composites.Count).Where(i => composites[i].ObjectIndex < trainObjects).ToList();
        var test = Enumerable.Range(0, composites.Count).Where(i => composites[i].ObjectIndex >= trainObjects).ToList();

        // Dimensions that never vary on the training composites carry nothing, and would turn standardisation into 0/0.
        var informative = FeatureTable.Varying(train.Select(i => features[i]).ToList());
        var selected = FeatureTable.Select(features, informative.Length > 0 ? informative : new[] { 0 });
        var model = RidgeRegression.FitCrossValidated(train.Select(i => selected[i]).ToList(), train.Select(i => targets[i]).ToList(),
            train.Select(i => composites[i].ObjectIndex).ToList(), options.RidgePenalties, options.CrossValidationFolds);
        var predicted = model.Predict(test.Select(i => selected[i]).ToList());
        var scores = HeldOutScores.Of(LocalizationTargetNames, predicted, test.Select(i => targets[i]).ToList(), model.Penalties);
        double iou = test.Select((i, row) => composites[i].Box.IntersectionOverUnion(Box(predicted[row]))).Average();
        return new LocalizationReport(scores, iou, train.Count, test.Count);
    }

    private static float[] Targets(ObjectBox box) => new[] { box.CenterX, box.CenterY, MathF.Log(box.Width), MathF.Log(box.Height) };

    private static ObjectBox Box(double[] targets)
        => new((float)targets[0], (float)targets[1], (float)Math.Exp(targets[2]), (float)Math.Exp(targets[3]));
}
