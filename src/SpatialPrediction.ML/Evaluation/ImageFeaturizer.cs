using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>
/// Anything that turns images into fixed-length feature vectors: the evaluators' view of a frozen featuriser. Use
/// <c>transformer.AsImageFeaturizer()</c> (<see cref="SpatialEvaluation"/>) for any ML.NET transformer that maps an image column to a float vector column (ours,
/// <c>DnnFeaturizeImage</c>, an ONNX model, a whole pipeline).
/// </summary>
/// <param name="images">Images to featurise (the callee does not keep or dispose them).</param>
/// <returns>One feature vector per image, all of one length.</returns>
public delegate float[][] ImageFeaturizer(IReadOnlyList<MLImage> images);

// Adapters to ImageFeaturizer.
public static partial class SpatialEvaluation
{
    /// <summary>Featurises images the caller made for this call only, and releases them whatever happens.</summary>
    internal static T FeaturizeAndRelease<T>(Func<IReadOnlyList<MLImage>, T> featurize, List<MLImage> images)
    {
        try
        {
            return featurize(images);
        }
        finally
        {
            foreach (var image in images) image.Dispose();
        }
    }

    /// <summary>
    /// The whole feature map of each image as one vector (channel-major, <c>C·H·W</c> values): for the evaluators that
    /// take vectors, such as <see cref="LocalizationProbe(ImageFeaturizer, IReadOnlyList{MLImage}, IReadOnlyList{MLImage}, LocalizationOptions?)"/>, read on the map — where each location's features sit —
    /// rather than on the pooled vector, which averages the locations away.
    /// </summary>
    public static ImageFeaturizer AsImageFeaturizer(this DenseFeaturizer featurizer)
    {
        ArgumentNullException.ThrowIfNull(featurizer);
        return images => featurizer(images).Select(map => map.Values).ToArray();
    }

    /// <summary>
    /// Pooled features of <paramref name="backbone"/> with every image resized to <paramref name="side"/> px instead of the
    /// featuriser's own input side: for tests whose pictures are small patches (the spatial tests at SP's local
    /// resolution), so they are not blown up to a resolution the backbone never trained at.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The backbone does not take pictures of that side.</exception>
    public static ImageFeaturizer AsImageFeaturizer(this SpatialBackbone backbone, int side)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        if (!backbone.Module.Accepts(side))
            throw new ArgumentOutOfRangeException(nameof(side), side, $"The {backbone.Kind} backbone does not take {side} px pictures.");
        const int chunk = 256;
        return images =>
        {
            var features = new List<float[]>(images.Count);
            for (int start = 0; start < images.Count; start += chunk)
            {
                int count = Math.Min(chunk, images.Count - start);
                var planes = new byte[count * 3 * side * side];
                for (int i = 0; i < count; i++)
                    MLNet.ImageColumn.ToRgbPlanes(images[start + i], side, "(image)", start + i, nameof(AsImageFeaturizer)).CopyTo(planes, i * 3 * side * side);
                using var scope = TorchSharp.torch.NewDisposeScope();
                using var batch = MLNet.ImageColumn.UnitBatch(planes, count, side);
                features.AddRange(backbone.Featurization.FeaturizeBatch(batch).Chunk(backbone.FeatureDimension));
            }
            return features.ToArray();
        };
    }

    /// <summary>
    /// Wraps an ML.NET transformer: images go in through an in-memory view with one image column named
    /// <paramref name="inputColumnName"/>, features are read from <paramref name="outputColumnName"/>, which must be a
    /// known-size vector of <c>float</c>.
    /// </summary>
    public static ImageFeaturizer AsImageFeaturizer(this ITransformer transformer, string inputColumnName = "Image", string outputColumnName = "Features")
    {
        ArgumentNullException.ThrowIfNull(transformer);
        return images =>
        {
            if (images.Count == 0) return Array.Empty<float[]>();
            var view = new ImageListDataView(images, inputColumnName);
            var output = transformer.Transform(view);
            var column = output.Schema.GetColumnOrNull(outputColumnName)
                ?? throw new ArgumentException($"The featuriser's output has no column '{outputColumnName}'. It has: " +
                                               string.Join(", ", output.Schema.Select(c => $"'{c.Name}'")) + ".");
            if (column.Type is not VectorDataViewType { ItemType: var item, IsKnownSize: true } || item != NumberDataViewType.Single)
                throw new ArgumentException($"Column '{outputColumnName}' has type {column.Type}; a known-size vector of Single was expected.");
            return output.GetColumn<float[]>(column).ToArray();
        };
    }
}
