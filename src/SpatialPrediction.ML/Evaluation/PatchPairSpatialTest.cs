using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.MLNet;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>Settings of <see cref="SpatialEvaluation.PatchPairTest"/>.</summary>
public sealed record PatchPairOptions
{
    /// <summary>Patch pairs drawn from each image. Default 8.</summary>
    public int PairsPerImage { get; init; } = 8;
    /// <summary>Side in pixels both patches are resized to (absolute size is then not visible). Default 32.</summary>
    public int PatchResolution { get; init; } = 32;
    /// <summary>How pairs are drawn. Patches are cut unmirrored and scored in the image's own frame, so a sampler's mirroring changes nothing.</summary>
    public SpatialViewPairSampler Sampler { get; init; } = new() { MirrorProbability = 0 };
    /// <summary>Target parameterisation. Default as SP trains: <see cref="TargetParameterization.ReferenceRelative"/>.</summary>
    public TargetParameterization Targets { get; init; } = TargetParameterization.ReferenceRelative;
    /// <summary>Share of the images whose pairs train the regressors; pairs of the rest are held out. Default 0.5.</summary>
    public double TrainFraction { get; init; } = 0.5;
    /// <summary>
    /// Ridge penalties to choose from, per target, by cross-validation on the training pairs (grouped by image). Default
    /// <see cref="RidgeRegression.DefaultPenalties"/>. A fixed penalty overfitted the few training pairs of the photographs
    /// (negative held-out R²) in a first run.
    /// </summary>
    public IReadOnlyList<double> RidgePenalties { get; init; } = RidgeRegression.DefaultPenalties;
    /// <summary>Folds of that cross-validation. Default 5.</summary>
    public int CrossValidationFolds { get; init; } = 5;
    /// <summary>Seed of the pair sampling. Default 1.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>R² and mean absolute error of one target on held-out pairs, and the ridge penalty cross-validation chose.</summary>
public sealed record TargetScore(string Target, double RSquared, double MeanAbsoluteError, double Penalty = double.NaN);

/// <summary>The result of the patch-pair test: per target and averaged.</summary>
public sealed record PatchPairReport(IReadOnlyList<TargetScore> Targets, int TrainingPairs, int TestPairs)
{
    /// <summary>Mean R² over the four targets.</summary>
    public double MeanRSquared => Targets.Average(t => t.RSquared);
    /// <summary>Mean MAE over the four targets.</summary>
    public double MeanAbsoluteError => Targets.Average(t => t.MeanAbsoluteError);
}

public static partial class SpatialEvaluation
{
    /// <summary>Runs the test on <paramref name="images"/> (any sizes; boxes are in normalised coordinates).</summary>
    /// <remarks>
    /// Spatial test 1 of the SP paper, position and scale from patch pairs: draw pairs of patches from held-out images
    /// with their boxes known, featurise each patch with the frozen featuriser, fit a ridge regressor per target on the pair
    /// features [fA, fB, fA − fB] of some images (penalty by cross-validation on those images alone), and report R² and MAE
    /// on the pairs of the others.
    /// </remarks>
    public static PatchPairReport PatchPairTest(ImageFeaturizer featurizer, IReadOnlyList<MLImage> images, PatchPairOptions? options = null)
    {
        options ??= new PatchPairOptions();
        options.Sampler.Validate();
        if (images.Count < 2) throw new ArgumentException("PatchPairSpatialTest needs at least 2 images (some to fit, some to test).", nameof(images));
        if (options.PairsPerImage < 1) throw new ArgumentOutOfRangeException(nameof(options), options.PairsPerImage, "PairsPerImage must be at least 1.");
        if (!(options.TrainFraction > 0 && options.TrainFraction < 1)) throw new ArgumentOutOfRangeException(nameof(options), options.TrainFraction, "TrainFraction must be in (0, 1).");
        int trainImages = Math.Clamp((int)Math.Round(images.Count * options.TrainFraction), 1, images.Count - 1);

        var pairFeatures = new List<float[]>();
        var targets = new List<float[]>();
        for (int i = 0; i < images.Count; i++)
        {
            var random = SeedStreams.For(options.Seed, SeedStreams.Validation, i);
            var pairs = Enumerable.Range(0, options.PairsPerImage).Select(_ => options.Sampler.Sample(random, images[i].Width, images[i].Height)).ToList();
            var features = FeaturizeAndRelease(featurizer.Invoke, CropPatches(images[i], pairs, options.PatchResolution, i));
            if (features.Length != 2 * pairs.Count)
                throw new InvalidOperationException($"The featuriser returned {features.Length} vectors for {2 * pairs.Count} patches.");
            for (int p = 0; p < pairs.Count; p++)
            {
                pairFeatures.Add(PairFeature(features[2 * p], features[2 * p + 1]));
                // The patches are cut as they lie in the image, never mirrored: targets in that frame, whatever the sampler drew.
                targets.Add(RelativeBoxTargets.Compute(pairs[p].Reference, pairs[p].Target, options.Targets));
            }
        }

        int split = trainImages * options.PairsPerImage;
        // Dimensions that never vary on the training pairs carry nothing, and would turn standardisation into 0/0.
        var informative = FeatureTable.Varying(pairFeatures.Take(split).ToList());
        var selected = FeatureTable.Select(pairFeatures, informative);
        var scores = new List<TargetScore>();
        if (informative.Length == 0)
        {
            for (int k = 0; k < RelativeBoxTargets.Count; k++)
                scores.Add(MeanPredictor(RelativeBoxTargets.Names[k], targets.Take(split).Select(t => (double)t[k]).ToList(),
                    targets.Skip(split).Select(t => (double)t[k]).ToList()));
            return new PatchPairReport(scores, split, pairFeatures.Count - split);
        }
        var model = RidgeRegression.FitCrossValidated(selected.Take(split).ToList(), targets.Take(split).ToList(),
            Enumerable.Range(0, split).Select(i => i / options.PairsPerImage).ToList(), options.RidgePenalties, options.CrossValidationFolds);
        var predicted = model.Predict(selected.Skip(split).ToList());
        scores.AddRange(HeldOutScores.Of(RelativeBoxTargets.Names, predicted, targets.Skip(split).ToList(), model.Penalties));
        return new PatchPairReport(scores, split, pairFeatures.Count - split);
    }

    /// <summary>The score of predicting the training mean everywhere: what a featuriser without information earns.</summary>
    private static TargetScore MeanPredictor(string name, IReadOnlyList<double> train, IReadOnlyList<double> test)
    {
        double mean = train.Average(), testMean = test.Average();
        double residual = test.Sum(t => (t - mean) * (t - mean)), total = test.Sum(t => (t - testMean) * (t - testMean));
        return new TargetScore(name, total > 0 ? 1 - residual / total : 0, test.Average(t => Math.Abs(t - mean)));
    }

    private static float[] PairFeature(float[] a, float[] b)
    {
        var pair = new float[3 * a.Length];
        a.CopyTo(pair, 0);
        b.CopyTo(pair, a.Length);
        for (int i = 0; i < a.Length; i++) pair[2 * a.Length + i] = a[i] - b[i];
        return pair;
    }

    /// <summary>Reference and second patch of every pair, interleaved, as images of the patch resolution.</summary>
    private static List<MLImage> CropPatches(MLImage image, IReadOnlyList<ViewPair> pairs, int resolution, int index)
    {
        var (planes, height, width) = ImageColumn.ToNativePlanes(image, "(images)", index, nameof(PatchPairTest));
        using var scope = NewDisposeScope();
        var source = tensor(planes, new long[] { 3, height, width }, dtype: ScalarType.Byte);
        var boxes = pairs.SelectMany(p => new[] { p.Reference, p.Target }).ToArray();
        using var pictures = new PictureBatch(Enumerable.Repeat(source, boxes.Length).ToList(), owned: false);
        var crops = ViewCropper.Crop(pictures, boxes, null, resolution);
        return Enumerable.Range(0, boxes.Length).Select(i => ImageColumn.ToMLImage(crops[i])).ToList();
    }
}
