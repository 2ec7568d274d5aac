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
        if (options.Precision == FeaturizationPrecision.BFloat16 && SpatialPrediction.ML.Backbones.BFloat16Kernels.SlowerOn(device) is { } slower)
            environment.Warn("SpatialFeaturize", $"FeaturizationPrecision.BFloat16 was asked for, but {slower}; FeaturizationPrecision.Float32 is the faster choice here.");
        return new SpatialFeaturizeEstimator(backbone, options, device);
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
