using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace SpatialPrediction.ML.Evaluation;

public static partial class SpatialEvaluation
{
    /// <summary>Fits on (<paramref name="trainFeatures"/>, <paramref name="trainLabels"/>) and evaluates on the test pair.</summary>
    /// <remarks>
    /// Linear probe on frozen features: constant dimensions dropped, min-max normalisation and ML.NET's
    /// <c>LbfgsMaximumEntropy</c> with L2 only (no L1: ML.NET's default L1 of 1 zeroed every weight of a 1-D probe in a
    /// known-answer test) fitted on the training features, ML.NET's multiclass evaluator on the test features.
    /// </remarks>
    public static MulticlassClassificationMetrics LinearProbe(MLContext mlContext, IReadOnlyList<float[]> trainFeatures, IReadOnlyList<int> trainLabels,
        IReadOnlyList<float[]> testFeatures, IReadOnlyList<int> testLabels, float l2Regularization = 0.01f)
    {
        int d = FeatureTable.CheckShape(trainFeatures, trainLabels.Count, "LinearProbe training set");
        int dTest = FeatureTable.CheckShape(testFeatures, testLabels.Count, "LinearProbe test set");
        if (d != dTest) throw new ArgumentException($"LinearProbe: training vectors have {d} values, test vectors {dTest}.");
        return FitLinearProbe(mlContext, trainFeatures, trainLabels, l2Regularization).Evaluate(mlContext, testFeatures, testLabels);
    }

    /// <summary>
    /// The same probe behind any featuriser transformer: featurises <paramref name="train"/> and <paramref name="test"/>
    /// with it and probes <paramref name="labelColumn"/> (any type MapValueToKey takes).
    /// </summary>
    public static MulticlassClassificationMetrics LinearProbe(MLContext mlContext, ITransformer featurizer, IDataView train, IDataView test,
        string labelColumn = "Label", string featureColumn = "Features", float l2Regularization = 0.01f)
    {
        foreach (var (data, name) in new[] { (train, "training"), (test, "test") })
        {
            if (data.Schema.GetColumnOrNull(labelColumn) is null)
                throw new ArgumentException($"LinearProbe: the {name} data has no label column '{labelColumn}'. It has: " +
                                            string.Join(", ", data.Schema.Select(c => $"'{c.Name}'")) + ".");
        }
        var featuredTrain = featurizer.Transform(train);
        if (featuredTrain.Schema.GetColumnOrNull(featureColumn) is not { Type: VectorDataViewType { IsKnownSize: true } vector } || vector.ItemType != NumberDataViewType.Single)
            throw new ArgumentException($"LinearProbe: the featuriser's output has no known-size float vector column '{featureColumn}'.");
        var model = FitLinearProbe(mlContext, featuredTrain, labelColumn, featureColumn, l2Regularization);
        return mlContext.MulticlassClassification.Evaluate(model.Transform(featurizer.Transform(test)), labelColumn);
    }

    /// <summary>
    /// Fits the probe on in-memory features (constant dimensions dropped); min-max normalised, or z-scored when
    /// <paramref name="standardize"/> is set.
    /// </summary>
    internal static FittedLinearProbe FitLinearProbe(MLContext mlContext, IReadOnlyList<float[]> features, IReadOnlyList<int> labels, float l2, bool standardize = false)
    {
        int classes = labels.Distinct().Count();
        if (classes < 2)
            throw new ArgumentException($"LinearProbe: the training labels hold {classes} class{(classes == 1 ? $" ({labels[0]})" : "es")} in " +
                                        $"{labels.Count} rows; a classifier needs at least 2 classes.", nameof(labels));
        var dimensions = FeatureTable.Informative(features);
        var model = FitLinearProbe(mlContext, FeatureTable.Classification(mlContext, FeatureTable.Select(features, dimensions), labels), "Label", "Features", l2, standardize);
        return new FittedLinearProbe(model, dimensions);
    }

    private static ITransformer FitLinearProbe(MLContext mlContext, IDataView data, string labelColumn, string featureColumn, float l2, bool standardize = false)
        => mlContext.Transforms.Conversion.MapValueToKey(labelColumn)
            .Append(standardize
                ? mlContext.Transforms.NormalizeMeanVariance(featureColumn)
                : mlContext.Transforms.NormalizeMinMax(featureColumn))
            .AppendCacheCheckpoint(mlContext)
            .Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
            {
                LabelColumnName = labelColumn,
                FeatureColumnName = featureColumn,
                L2Regularization = l2,
                L1Regularization = 0,
            }))
            .Fit(data);
}

/// <summary>A fitted probe on in-memory features; it remembers which dimensions it reads.</summary>
internal sealed record FittedLinearProbe(ITransformer Model, int[] Dimensions)
{
    public IDataView Transform(MLContext mlContext, IReadOnlyList<float[]> features, IReadOnlyList<int> labels)
        => Model.Transform(FeatureTable.Classification(mlContext, FeatureTable.Select(features, Dimensions), labels));

    public MulticlassClassificationMetrics Evaluate(MLContext mlContext, IReadOnlyList<float[]> features, IReadOnlyList<int> labels)
        => mlContext.MulticlassClassification.Evaluate(Transform(mlContext, features, labels));
}
