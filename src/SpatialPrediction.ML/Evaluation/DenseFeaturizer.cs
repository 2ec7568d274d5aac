using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>A spatial feature map: <see cref="Channels"/> values at each of <see cref="Height"/> × <see cref="Width"/> locations, channel-major.</summary>
public sealed record FeatureMap(int Channels, int Height, int Width, float[] Values)
{
    /// <summary>The feature vector at one location.</summary>
    public float[] At(int y, int x)
    {
        var vector = new float[Channels];
        for (int c = 0; c < Channels; c++) vector[c] = Values[(c * Height + y) * Width + x];
        return vector;
    }
}

/// <summary>Turns images into spatial feature maps (for dense probes).</summary>
public delegate FeatureMap[] DenseFeaturizer(IReadOnlyList<MLImage> images);

// Adapters to DenseFeaturizer.
public static partial class SpatialEvaluation
{
    /// <summary>
    /// Wraps an ML.NET transformer whose output has a feature-map column: a float vector whose type has three
    /// dimensions (channels, height, width), as <c>SpatialFeaturize(..., FeatureMapColumnName = ...)</c> produces.
    /// </summary>
    public static DenseFeaturizer AsDenseFeaturizer(this ITransformer transformer, string inputColumnName = "Image", string mapColumnName = "FeatureMap")
    {
        ArgumentNullException.ThrowIfNull(transformer);
        return images =>
        {
            if (images.Count == 0) return Array.Empty<FeatureMap>();
            var output = transformer.Transform(new ImageListDataView(images, inputColumnName));
            var column = output.Schema.GetColumnOrNull(mapColumnName)
                ?? throw new ArgumentException($"The featuriser's output has no column '{mapColumnName}' (set FeatureMapColumnName). It has: " +
                                               string.Join(", ", output.Schema.Select(c => $"'{c.Name}'")) + ".");
            if (column.Type is not VectorDataViewType { Dimensions.Length: 3 } vector || vector.ItemType != NumberDataViewType.Single)
                throw new ArgumentException($"Column '{mapColumnName}' has type {column.Type}; a float vector with dimensions (channels, height, width) was expected.");
            int c = vector.Dimensions[0], h = vector.Dimensions[1], w = vector.Dimensions[2];
            return output.GetColumn<float[]>(column).Select(values => new FeatureMap(c, h, w, values)).ToArray();
        };
    }
}
