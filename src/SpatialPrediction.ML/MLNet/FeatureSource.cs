using Microsoft.ML;

namespace SpatialPrediction.ML.MLNet;

/// <summary>Where a featurised row gets its feature vector from.</summary>
internal abstract class FeatureSource : IDisposable
{
    /// <summary>The features of the row at <paramref name="position"/> of the cursor being served.</summary>
    public abstract ReadOnlySpan<float> At(long position);

    public virtual void Dispose() { }
}

/// <summary>Featurises the current row alone (prediction engines, shuffled cursors).</summary>
internal sealed class RowFeatureSource(SpatialFeaturizerTransformer featurizer, ImageInput input, DataViewRow row) : FeatureSource
{
    private readonly Func<byte[]> read = input.Getter(row);
    private readonly float[] features = new float[featurizer.FeatureDimension];
    private long position = -1;

    public override ReadOnlySpan<float> At(long position)
    {
        if (this.position != position)
        {
            featurizer.FeaturizeInto(new[] { read() }, features);
            this.position = position;
        }
        return features;
    }
}

/// <summary>
/// Featurises rows in batches: a second cursor over the same input (same order, since neither is shuffled) reads the
/// images of the next rows ahead of the served cursor, and one forward pass covers them all. Rows whose features are
/// never asked for are skipped without decoding.
/// </summary>
internal sealed class BatchedFeatureSource : FeatureSource
{
    private readonly SpatialFeaturizerTransformer featurizer;
    private readonly DataViewRowCursor lookahead;
    private readonly Func<byte[]> read;
    private readonly int batchSize;
    private readonly float[] features;
    private long first = -1, count;

    public BatchedFeatureSource(SpatialFeaturizerTransformer featurizer, ImageInput input, IDataView data, string column, int batchSize)
    {
        this.featurizer = featurizer;
        this.batchSize = batchSize;
        lookahead = data.GetRowCursor(new[] { data.Schema[column] });
        read = input.Getter(lookahead);
        features = new float[batchSize * featurizer.FeatureDimension];
    }

    public override ReadOnlySpan<float> At(long position)
    {
        int d = featurizer.FeatureDimension;
        if (position < first || position >= first + count)
        {
            while (lookahead.Position < position)
            {
                if (!lookahead.MoveNext())
                    throw new InvalidOperationException($"The input has fewer rows than position {position}: it changed between cursors.");
            }
            if (lookahead.Position != position)
                throw new InvalidOperationException("Rows were requested out of order; batched featurisation needs a forward-only cursor.");
            var images = new List<byte[]> { read() };
            while (images.Count < batchSize && lookahead.MoveNext()) images.Add(read());
            featurizer.FeaturizeInto(images, features);
            first = position;
            count = images.Count;
        }
        return features.AsSpan((int)(position - first) * d, d);
    }

    public override void Dispose() => lookahead.Dispose();
}
