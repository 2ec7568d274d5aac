using Microsoft.ML.Data;
using SpatialPrediction.ML;
using SpatialPrediction.ML.MLNet;
using SpatialPrediction.ML.Objectives;

namespace Microsoft.ML;

/// <summary>Spatial Prediction entry points on ML.NET's catalogs.</summary>
public static class SpatialPredictionCatalog
{
    /// <summary>
    /// Self-supervised pretraining with Spatial Prediction: <c>Fit</c> trains a backbone on the images of
    /// <see cref="SpatialPretrainOptions.InputColumnName"/> and returns it, frozen, as a featuriser.
    /// </summary>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions { Epochs = 5 })
    ///     .Append(mlContext.Transforms.Conversion.MapValueToKey("Label"))
    ///     .AppendCacheCheckpoint(mlContext)
    ///     .Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features"));
    /// </code>
    /// </example>
    public static SpatialPretrainEstimator SpatialPretrain(this TransformsCatalog catalog, SpatialPretrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new SpatialPretrainEstimator(CatalogEnvironment.Find(catalog), options);
    }

    /// <summary>Short form of <see cref="SpatialPretrain(TransformsCatalog, SpatialPretrainOptions)"/> with the common arguments.</summary>
    public static SpatialPretrainEstimator SpatialPretrain(this TransformsCatalog catalog, string outputColumnName = "Features",
        string inputColumnName = "Image", SslFramework framework = SslFramework.SimClr, int epochs = 10, int seed = 1)
        => catalog.SpatialPretrain(new SpatialPretrainOptions
        {
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            Framework = framework,
            Epochs = epochs,
            Seed = seed,
        });

    /// <summary>
    /// A featuriser from an already trained backbone (a <see cref="SpatialBackbone"/> loaded from file or taken from a
    /// fitted featuriser): an estimator whose <c>Fit</c> only checks the input column, so it chains like any transform.
    /// </summary>
    /// <example>
    /// <code>
    /// using var backbone = SpatialBackbone.Load("scenes-simclr-sp.spbb");
    /// var pipeline = mlContext.Transforms.SpatialFeaturize(backbone)
    ///     .Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features"));
    /// </code>
    /// </example>
    public static SpatialFeaturizeEstimator SpatialFeaturize(this TransformsCatalog catalog, SpatialBackbone backbone,
        string outputColumnName = "Features", string inputColumnName = "Image", int batchSize = 8)
        => catalog.SpatialFeaturize(backbone, new SpatialFeaturizeOptions
        {
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            BatchSize = batchSize,
        });

    /// <summary>The options form of <see cref="SpatialFeaturize(TransformsCatalog, SpatialBackbone, string, string, int)"/>.</summary>
    public static SpatialFeaturizeEstimator SpatialFeaturize(this TransformsCatalog catalog, SpatialBackbone backbone, SpatialFeaturizeOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        var environment = CatalogEnvironment.Find(catalog);
        // The same device rule as pretraining: MLContext.GpuDeviceId asks for CUDA, FallbackToCpu decides if its absence is an error.
        var device = SpatialPrediction.ML.Training.TrainingDevice.Resolve(null, environment.GpuDeviceId, environment.FallbackToCpu);
        if (options.Precision == ComputePrecision.BFloat16 && SpatialPrediction.ML.Machine.BFloat16Kernels.SlowerOn(device) is { } slower)
            environment.Warn("SpatialFeaturize", $"bfloat16 featurisation (Precision = BFloat16) was asked for, but {slower}; Float32 is the faster choice here.");
        return new SpatialFeaturizeEstimator(backbone, options, device);
    }

    /// <summary>
    /// Adapts a starting backbone to your pictures only if that pays on your labels: pretrains with
    /// <paramref name="adaptation"/> (whose <see cref="SpatialPretrainOptions.InitialBackbone"/> is the starting point,
    /// for example <c>SpatialPretrainOptions.ImageNetAdaptation(SpatialBackbone.ImageNetResNet18())</c>), then scores the
    /// adapted features and the starting backbone's frozen features with the same linear probe by
    /// <paramref name="folds"/>-fold cross-validation on <paramref name="labelledImages"/>, and returns the featuriser
    /// with the higher mean accuracy — the frozen one on a tie — with both scores. Labels are read only for scoring;
    /// pretraining uses the pictures of <paramref name="pretrainingImages"/> (default: <paramref name="labelledImages"/>),
    /// so unlabelled pictures can be added there. The adapted backbone is disposed when it is not chosen.
    /// </summary>
    /// <example>
    /// <code>
    /// using var imageNet = SpatialBackbone.ImageNetResNet18();
    /// var choice = mlContext.Transforms.AdaptIfBetter(images, SpatialPretrainOptions.ImageNetAdaptation(imageNet));
    /// Console.WriteLine(choice);   // "adapted chosen: 5-fold linear-probe accuracy adapted 81.2 % ± 2.0 %, frozen 78.9 % ± 2.4 %"
    /// var pipeline = choice.Featurizer.Append(mlContext.Transforms.Conversion.MapValueToKey("Label")) ...
    /// </code>
    /// </example>
    /// <exception cref="ArgumentException">No starting backbone, no such label column, a row without a label, or too few rows for the folds.</exception>
    public static AdaptationChoice AdaptIfBetter(this TransformsCatalog catalog, IDataView labelledImages, SpatialPretrainOptions adaptation,
        string labelColumnName = "Label", int folds = 5, IDataView? pretrainingImages = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(labelledImages);
        ArgumentNullException.ThrowIfNull(adaptation);
        var initial = adaptation.InitialBackbone ?? throw new ArgumentException(
            "AdaptIfBetter compares adapting a starting backbone with keeping it frozen, and InitialBackbone is not set: start from " +
            "SpatialPretrainOptions.ImageNetAdaptation(SpatialBackbone.ImageNetResNet18()) or set InitialBackbone.", nameof(adaptation));
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(folds), folds, "folds must be at least 2.");
        if (labelledImages.Schema.GetColumnOrNull(labelColumnName) is null)
            throw new ArgumentException($"AdaptIfBetter: the labelled images have no column '{labelColumnName}'. They have: " +
                                        string.Join(", ", labelledImages.Schema.Select(c => $"'{c.Name}'")) + ".", nameof(labelColumnName));
        var mlContext = new MLContext(adaptation.Seed);
        var labels = ReadLabels(mlContext, labelledImages, labelColumnName);

        var frozen = catalog.SpatialFeaturize(initial, new SpatialFeaturizeOptions
        {
            InputColumnName = adaptation.InputColumnName,
            OutputColumnName = adaptation.OutputColumnName,
            BatchSize = adaptation.Runtime.FeaturizationBatchSize,
            PixelHeight = adaptation.PixelHeight,
            PixelWidth = adaptation.PixelWidth,
            Resizing = adaptation.Resizing,
            Precision = adaptation.Runtime.FeaturizationPrecision,
            Engine = adaptation.Runtime.FeaturizationEngine,
            SpatialPyramid = adaptation.SpatialPyramid,
        }).Fit(labelledImages);
        var frozenScore = SpatialPrediction.ML.Evaluation.CrossValidatedProbe.Accuracy(mlContext, Features(frozen), labels, folds, adaptation.Seed);
        var adapted = catalog.SpatialPretrain(adaptation).Fit(pretrainingImages ?? labelledImages);
        try
        {
            var adaptedScore = SpatialPrediction.ML.Evaluation.CrossValidatedProbe.Accuracy(mlContext, Features(adapted), labels, folds, adaptation.Seed);
            bool useAdapted = adaptedScore.Mean > frozenScore.Mean;
            if (!useAdapted) adapted.Backbone.Dispose();
            return new AdaptationChoice(useAdapted ? adapted : frozen, useAdapted, adaptedScore.Mean, adaptedScore.Std, frozenScore.Mean, frozenScore.Std, folds);
        }
        catch
        {
            adapted.Backbone.Dispose();
            throw;
        }

        List<float[]> Features(ITransformer featurizer) => featurizer.Transform(labelledImages).GetColumn<float[]>(adaptation.OutputColumnName).ToList();
    }

    private static List<int> ReadLabels(MLContext mlContext, IDataView data, string labelColumnName)
    {
        const string key = "AdaptIfBetterLabelKey";
        var keyed = mlContext.Transforms.Conversion.MapValueToKey(key, labelColumnName).Fit(data).Transform(data);
        var keys = keyed.GetColumn<uint>(key).ToList();
        int missing = keys.IndexOf(0);
        if (missing >= 0) throw new ArgumentException($"AdaptIfBetter: row {missing} has no value in the label column '{labelColumnName}'.", nameof(data));
        return keys.Select(k => (int)k - 1).ToList();
    }

    /// <summary>
    /// <see cref="ModelOperationsCatalog.Load(string, out DataViewSchema)"/> with the reason a model cannot be loaded in
    /// the message: ML.NET creates each transformer by reflection and so reports a loader's error (for example a damaged
    /// backbone entry, "weights checksum mismatch") as <see cref="System.Reflection.TargetInvocationException"/> saying
    /// only "Exception has been thrown by the target of an invocation". This rethrows the loader's own error as an
    /// <see cref="InvalidDataException"/> that starts with the file.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a loadable model; the message says why.</exception>
    public static ITransformer LoadWithReason(this ModelOperationsCatalog catalog, string path, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (!File.Exists(path)) throw new FileNotFoundException($"Model file '{path}' does not exist.", path);
        try
        {
            return catalog.Load(path, out inputSchema);
        }
        catch (Exception e) when (e is System.Reflection.TargetInvocationException or InvalidDataException or FormatException or InvalidOperationException)
        {
            var reason = e;
            while (reason is System.Reflection.TargetInvocationException { InnerException: { } inner }) reason = inner;
            throw new InvalidDataException($"{path}: not a loadable model: {reason.Message}", reason);
        }
    }
}
