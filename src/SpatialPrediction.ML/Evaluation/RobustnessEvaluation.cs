using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>Linear-probe accuracy on one corruption at one severity.</summary>
public sealed record CorruptionScore(CorruptionKind Kind, int Severity, double Accuracy);

/// <summary>Accuracy on clean test images and under every corruption and severity.</summary>
public sealed record CorruptionReport(double CleanAccuracy, IReadOnlyList<CorruptionScore> Scores)
{
    /// <summary>Mean accuracy over all corruptions and severities (mean corruption accuracy).</summary>
    public double MeanCorruptionAccuracy => Scores.Average(s => s.Accuracy);
}

// Robustness of frozen features: a linear probe fitted on clean (or one-style) training images, tested on corrupted
// images (every kind at severities 1–5) and on other rendering styles of the same scenes.
public static partial class SpatialEvaluation
{
    /// <summary>
    /// Clean and corrupted test accuracy of a probe fitted on clean training images, for every kind in
    /// <paramref name="kinds"/> (default all) at every severity in <paramref name="severities"/> (default 1–5).
    /// </summary>
    public static CorruptionReport CorruptionRobustness(MLContext mlContext, ImageFeaturizer featurizer,
        IReadOnlyList<MLImage> train, IReadOnlyList<int> trainLabels, IReadOnlyList<MLImage> test, IReadOnlyList<int> testLabels,
        IReadOnlyList<CorruptionKind>? kinds = null, int seed = 1, float l2Regularization = 0.01f, IReadOnlyList<int>? severities = null)
    {
        foreach (int severity in severities ?? CorruptionSeverities)
            if (severity < 1 || severity > 5)
                throw new ArgumentOutOfRangeException(nameof(severities), severity, "Corruption severities must be between 1 and 5.");
        var probe = FitLinearProbe(mlContext, featurizer(train), trainLabels, l2Regularization);
        double clean = probe.Evaluate(mlContext, featurizer(test), testLabels).MicroAccuracy;
        var scores = new List<CorruptionScore>();
        foreach (var kind in kinds ?? Enum.GetValues<CorruptionKind>())
        foreach (int severity in severities ?? CorruptionSeverities)
        {
            var corrupted = test.Select((image, i) => Corrupt(image, kind, severity, SeedStreams.Derive(seed, (int)kind, i))).ToList();
            var features = FeaturizeAndRelease(featurizer.Invoke, corrupted);
            scores.Add(new CorruptionScore(kind, severity, probe.Evaluate(mlContext, features, testLabels).MicroAccuracy));
        }
        return new CorruptionReport(clean, scores);
    }

    /// <summary>
    /// Fits the probe on <paramref name="trainScenes"/> as rendered (one style) and tests it on the same test scenes
    /// rendered in every style of <paramref name="styles"/> (geometry, classes and labels identical across styles).
    /// </summary>
    /// <returns>The probe's accuracy on the test scenes in each style.</returns>
    public static IReadOnlyDictionary<SceneStyle, double> StyleShift(MLContext mlContext, ImageFeaturizer featurizer, IReadOnlyList<SceneImage> trainScenes,
        SpatialScenesOptions testScenes, int testCount, IReadOnlyList<SceneStyle>? styles = null, float l2Regularization = 0.01f)
    {
        var probe = FitLinearProbe(mlContext, Featurize(featurizer, trainScenes), trainScenes.Select(s => s.Label).ToList(), l2Regularization);
        var result = new Dictionary<SceneStyle, double>();
        foreach (var style in styles ?? Enum.GetValues<SceneStyle>())
        {
            var options = new SpatialScenesOptions
            {
                ImageSize = testScenes.ImageSize, Seed = testScenes.Seed, ClassCount = testScenes.ClassCount,
                MinObjectScale = testScenes.MinObjectScale, MaxObjectScale = testScenes.MaxObjectScale,
                DistractorCount = testScenes.DistractorCount, Style = style,
            };
            var scenes = SpatialScenes.Generate(testCount, options);
            result[style] = probe.Evaluate(mlContext, Featurize(featurizer, scenes), scenes.Select(s => s.Label).ToList()).MicroAccuracy;
        }
        return result;
    }

    private static float[][] Featurize(ImageFeaturizer featurizer, IReadOnlyList<SceneImage> scenes)
    {
        return FeaturizeAndRelease(featurizer.Invoke, scenes.Select(SpatialScenes.ToMLImage).ToList());
    }
}
