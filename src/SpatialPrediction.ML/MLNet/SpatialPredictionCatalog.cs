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
}
