namespace SpatialPrediction.ML;

/// <summary>
/// What <see cref="Microsoft.ML.SpatialPredictionCatalog.AdaptIfBetter"/> chose: the featuriser to use and the
/// cross-validated linear-probe accuracy of both candidates on the user's labels.
/// </summary>
public sealed class AdaptationChoice
{
    internal AdaptationChoice(SpatialFeaturizerTransformer featurizer, bool adapted, double adaptedAccuracy, double adaptedStd,
        double frozenAccuracy, double frozenStd, int folds)
    {
        Featurizer = featurizer;
        Adapted = adapted;
        AdaptedAccuracy = adaptedAccuracy;
        AdaptedAccuracyStd = adaptedStd;
        FrozenAccuracy = frozenAccuracy;
        FrozenAccuracyStd = frozenStd;
        Folds = folds;
    }

    /// <summary>The better featuriser: the adapted one, or the starting backbone frozen when adapting did not score higher.</summary>
    public SpatialFeaturizerTransformer Featurizer { get; }

    /// <summary>Whether <see cref="Featurizer"/> is the adapted backbone (false: the starting backbone, frozen).</summary>
    public bool Adapted { get; }

    /// <summary>Mean accuracy of the linear probe on the adapted features over the held-out folds.</summary>
    public double AdaptedAccuracy { get; }

    /// <summary>Standard deviation of <see cref="AdaptedAccuracy"/> over the folds.</summary>
    public double AdaptedAccuracyStd { get; }

    /// <summary>Mean accuracy of the linear probe on the frozen starting backbone's features over the same folds.</summary>
    public double FrozenAccuracy { get; }

    /// <summary>Standard deviation of <see cref="FrozenAccuracy"/> over the folds.</summary>
    public double FrozenAccuracyStd { get; }

    /// <summary>Folds of the cross-validation.</summary>
    public int Folds { get; }

    /// <summary>One line: the choice and both scores.</summary>
    public override string ToString()
        => $"{(Adapted ? "adapted" : "frozen")} chosen: {Folds}-fold linear-probe accuracy adapted {AdaptedAccuracy:P1} ± {AdaptedAccuracyStd:P1}, " +
           $"frozen {FrozenAccuracy:P1} ± {FrozenAccuracyStd:P1}";
}
