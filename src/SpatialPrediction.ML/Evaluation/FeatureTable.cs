using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>Feature vectors with a label as an ML.NET view (columns <c>Features</c>, <c>Label</c>), for ML.NET trainers.</summary>
internal static class FeatureTable
{
    public static IDataView Classification(MLContext mlContext, IReadOnlyList<float[]> features, IReadOnlyList<int> labels)
        => Create(mlContext, features, labels.Select(l => new Row<int> { Label = l }).ToList());

    public static IDataView Regression(MLContext mlContext, IReadOnlyList<float[]> features, IReadOnlyList<float> targets)
        => Create(mlContext, features, targets.Select(t => new Row<float> { Label = t }).ToList());

    /// <summary>Checks that there is one label per vector and that every vector has the same length; returns it.</summary>
    public static int CheckShape(IReadOnlyList<float[]> features, int labelCount, string what)
    {
        if (features.Count != labelCount)
            throw new ArgumentException($"{what}: {features.Count} feature vectors but {labelCount} labels.");
        if (features.Count == 0) throw new ArgumentException($"{what}: no feature vectors.");
        int dimension = features[0].Length;
        int bad = features.ToList().FindIndex(f => f.Length != dimension);
        if (bad >= 0) throw new ArgumentException($"{what}: vector {bad} has {features[bad].Length} values, vector 0 has {dimension}.");
        return dimension;
    }

    /// <summary>Dimensions that vary over <paramref name="features"/> (empty when every dimension is constant).</summary>
    public static int[] Varying(IReadOnlyList<float[]> features)
        => Enumerable.Range(0, features[0].Length).Where(k => features.Any(f => f[k] != features[0][k])).ToArray();

    /// <summary>
    /// Dimensions that vary over <paramref name="features"/>: constant ones carry nothing and turn normalisation into
    /// 0/0. Returns every dimension when none varies (the probe then meets the constant honestly).
    /// </summary>
    public static int[] Informative(IReadOnlyList<float[]> features)
    {
        var varying = Varying(features);
        return varying.Length == 0 ? Enumerable.Range(0, features[0].Length).ToArray() : varying;
    }

    /// <summary>The given dimensions of every vector.</summary>
    public static List<float[]> Select(IReadOnlyList<float[]> features, int[] dimensions)
        => features.Select(f => dimensions.Length == f.Length ? f : dimensions.Select(k => f[k]).ToArray()).ToList();

    private static IDataView Create<T>(MLContext mlContext, IReadOnlyList<float[]> features, List<Row<T>> rows)
    {
        for (int i = 0; i < rows.Count; i++) rows[i].Features = features[i];
        var schema = SchemaDefinition.Create(typeof(Row<T>));
        schema[nameof(Row<T>.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features[0].Length);
        return mlContext.Data.LoadFromEnumerable(rows, schema);
    }

    private sealed class Row<T>
    {
        public float[] Features { get; set; } = Array.Empty<float>();
        public T Label { get; set; } = default!;
    }
}
