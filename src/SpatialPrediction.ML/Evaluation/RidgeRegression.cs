using static TorchSharp.torch;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>
/// A fitted multi-target ridge regression: per-target penalty chosen by grouped K-fold cross-validation on the training
/// rows alone, then refitted on all of them.
/// </summary>
/// <param name="Penalties">The penalty chosen for each target (on standardised features).</param>
/// <param name="Mean">Per-feature training mean.</param>
/// <param name="Scale">Per-feature divisor (training standard deviation, floored).</param>
/// <param name="Weights">Weights, feature-major: <c>Weights[feature * targets + target]</c>.</param>
/// <param name="Intercepts">Per-target intercept (the training mean of the target).</param>
internal sealed record RidgeModel(double[] Penalties, double[] Mean, double[] Scale, double[] Weights, double[] Intercepts)
{
    /// <summary>Predictions for every row, one array of targets per row.</summary>
    public double[][] Predict(IReadOnlyList<float[]> features)
    {
        int targets = Intercepts.Length;
        return features.Select(row =>
        {
            var output = (double[])Intercepts.Clone();
            for (int j = 0; j < row.Length; j++)
            {
                double x = (row[j] - Mean[j]) / Scale[j];
                for (int t = 0; t < targets; t++) output[t] += x * Weights[j * targets + t];
            }
            return output;
        }).ToArray();
    }
}

/// <summary>
/// Closed-form ridge regression through one SVD per fit, so a whole grid of penalties costs one decomposition.
/// Features are standardised on the training rows; a standard deviation below a thousandth of the median one is floored
/// there, because a nearly constant training feature would otherwise be scaled into huge test values. The penalty is
/// picked per target by K-fold cross-validation over groups (the rows of one image stay in one fold, as pairs of the same
/// image are not independent) — a fixed penalty either overfits small sets (negative R² on held-out photographs) or
/// underfits large ones.
/// </summary>
internal static class RidgeRegression
{
    /// <summary>Penalties tried by default: 10⁻² … 10⁶ in half decades, relative to standardised features.</summary>
    public static IReadOnlyList<double> DefaultPenalties { get; } = Enumerable.Range(0, 17).Select(i => Math.Pow(10, -2 + 0.5 * i)).ToArray();

    /// <summary>Fits the model, choosing each target's penalty from <paramref name="penalties"/> by grouped cross-validation.</summary>
    /// <param name="features">Training rows.</param>
    /// <param name="targets">Training targets, one array per row (all the same length).</param>
    /// <param name="groups">Group of every row (for example the image it came from); groups never straddle folds.</param>
    /// <param name="penalties">Penalties to try; default <see cref="DefaultPenalties"/>.</param>
    /// <param name="folds">Number of folds (at most the number of groups). Default 5.</param>
    public static RidgeModel FitCrossValidated(IReadOnlyList<float[]> features, IReadOnlyList<float[]> targets, IReadOnlyList<int> groups,
        IReadOnlyList<double>? penalties = null, int folds = 5)
    {
        penalties ??= DefaultPenalties;
        int targetCount = Check(features, targets);
        if (groups.Count != features.Count) throw new ArgumentException($"{groups.Count} group ids for {features.Count} rows.", nameof(groups));
        if (penalties.Count == 0 || penalties.Any(p => !(p > 0))) throw new ArgumentException("Penalties must be positive and at least one.", nameof(penalties));
        var distinct = groups.Distinct().OrderBy(g => g).ToList();
        folds = Math.Min(folds, distinct.Count);
        if (folds < 2) throw new ArgumentException("Cross-validation needs rows from at least 2 groups.", nameof(groups));
        var foldOf = distinct.Select((g, i) => (g, i)).ToDictionary(p => p.g, p => p.i % folds);

        var error = new double[penalties.Count, targetCount];
        for (int fold = 0; fold < folds; fold++)
        {
            var fit = Enumerable.Range(0, features.Count).Where(i => foldOf[groups[i]] != fold).ToList();
            var held = Enumerable.Range(0, features.Count).Where(i => foldOf[groups[i]] == fold).ToList();
            var models = FitEach(fit.Select(i => features[i]).ToList(), fit.Select(i => targets[i]).ToList(),
                penalties.Select(p => Enumerable.Repeat(p, targetCount).ToArray()).ToList());
            for (int p = 0; p < penalties.Count; p++)
            {
                var model = models[p];
                var predicted = model.Predict(held.Select(i => features[i]).ToList());
                for (int r = 0; r < held.Count; r++)
                for (int t = 0; t < targetCount; t++)
                {
                    double e = predicted[r][t] - targets[held[r]][t];
                    error[p, t] += e * e;
                }
            }
        }
        var chosen = Enumerable.Range(0, targetCount)
            .Select(t => penalties[Enumerable.Range(0, penalties.Count).MinBy(p => error[p, t])])
            .ToArray();
        return Fit(features, targets, chosen);
    }

    /// <summary>Fits the model with one given penalty per target.</summary>
    public static RidgeModel Fit(IReadOnlyList<float[]> features, IReadOnlyList<float[]> targets, double[] penalties)
        => FitEach(features, targets, new[] { penalties })[0];

    /// <summary>One model per set of per-target penalties, sharing the standardisation and one SVD.</summary>
    private static List<RidgeModel> FitEach(IReadOnlyList<float[]> features, IReadOnlyList<float[]> targets, IReadOnlyList<double[]> penaltySets)
    {
        int targetCount = Check(features, targets);
        var wrong = penaltySets.FirstOrDefault(p => p.Length != targetCount);
        if (wrong is not null) throw new ArgumentException($"{wrong.Length} penalties for {targetCount} targets.", nameof(penaltySets));
        int n = features.Count, d = features[0].Length;
        var mean = new double[d];
        var scale = new double[d];
        for (int j = 0; j < d; j++)
        {
            double sum = 0, squares = 0;
            for (int i = 0; i < n; i++) sum += features[i][j];
            mean[j] = sum / n;
            for (int i = 0; i < n; i++) squares += (features[i][j] - mean[j]) * (features[i][j] - mean[j]);
            scale[j] = Math.Sqrt(squares / n);
        }
        double floor = Math.Max(1e-3 * scale.Order().ElementAt(d / 2), 1e-12);
        for (int j = 0; j < d; j++) scale[j] = Math.Max(scale[j], floor);
        var intercepts = Enumerable.Range(0, targetCount).Select(t => targets.Average(row => (double)row[t])).ToArray();

        var x = new double[n * d];
        var y = new double[n * targetCount];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) x[i * d + j] = (features[i][j] - mean[j]) / scale[j];
            for (int t = 0; t < targetCount; t++) y[i * targetCount + t] = targets[i][t] - intercepts[t];
        }

        using var scope = NewDisposeScope();
        var (u, s, vh) = linalg.svd(tensor(x, new long[] { n, d }), fullMatrices: false);
        var projected = u.t().matmul(tensor(y, new long[] { n, targetCount })); // r × targets
        var squared = s.square().unsqueeze(1);
        var v = vh.t();
        return penaltySets.Select(penalties =>
        {
            using var inner = NewDisposeScope();
            var shrink = s.unsqueeze(1) / (squared + tensor(penalties).unsqueeze(0)); // r × targets: s / (s² + λ_t)
            var weights = v.matmul(shrink * projected); // d × targets
            return new RidgeModel(penalties, mean, scale, weights.contiguous().data<double>().ToArray(), intercepts);
        }).ToList();
    }

    private static int Check(IReadOnlyList<float[]> features, IReadOnlyList<float[]> targets)
    {
        if (features.Count == 0) throw new ArgumentException("Ridge regression needs at least one row.", nameof(features));
        if (targets.Count != features.Count) throw new ArgumentException($"{features.Count} rows but {targets.Count} target rows.", nameof(targets));
        int d = features[0].Length, t = targets[0].Length;
        if (features.Any(f => f.Length != d)) throw new ArgumentException($"Rows differ in length (row 0 has {d} values).", nameof(features));
        if (t == 0 || targets.Any(r => r.Length != t)) throw new ArgumentException($"Target rows must all have the same, non-zero length.", nameof(targets));
        return t;
    }
}
