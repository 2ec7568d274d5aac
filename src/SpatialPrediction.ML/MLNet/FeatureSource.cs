using Microsoft.ML;

namespace SpatialPrediction.ML.MLNet;

/// <summary>
/// Where a featurised row gets its pooled features (and, when asked for, its feature map) from: a buffer of
/// consecutive rows that a subclass fills when a requested row is not in it.
/// </summary>
internal abstract class FeatureSource(FeatureBuffer buffer) : IDisposable
{
    protected FeatureBuffer Buffer { get; } = buffer;

    /// <summary>Fills <see cref="Buffer"/> with rows starting at <paramref name="position"/>.</summary>
    protected abstract void Fill(long position);

    /// <summary>The pooled features of the row at <paramref name="position"/> of the cursor being served.</summary>
    public ReadOnlySpan<float> At(long position)
    {
        if (!Buffer.Holds(position)) Fill(position);
        return Buffer.PooledAt(position);
    }

    /// <summary>The flattened feature map (C·h·w) of that row; only when the source was made with maps.</summary>
    public ReadOnlySpan<float> MapAt(long position)
    {
        if (!Buffer.Holds(position)) Fill(position);
        return Buffer.MapAt(position);
    }

    public virtual void Dispose() { }
}

/// <summary>Buffers for the features of up to <c>capacity</c> consecutive rows.</summary>
internal sealed class FeatureBuffer(SpatialFeaturizerTransformer featurizer, int capacity, bool withMaps)
{
    public readonly float[] Pooled = new float[capacity * featurizer.FeatureDimension];
    public readonly float[]? Maps = withMaps ? new float[capacity * featurizer.FeatureMapLength] : null;
    public long First = -1;
    public int Count;

    public bool Holds(long position) => position >= First && position < First + Count;

    public void Fill(long first, IReadOnlyList<byte[]> images)
    {
        featurizer.FeaturizeInto(images, Pooled, Maps);
        First = first;
        Count = images.Count;
    }

    public ReadOnlySpan<float> PooledAt(long position)
        => Pooled.AsSpan((int)(position - First) * featurizer.FeatureDimension, featurizer.FeatureDimension);

    public ReadOnlySpan<float> MapAt(long position)
        => Maps is null
            ? throw new InvalidOperationException("The feature map column was not requested when this cursor was created.")
            : Maps.AsSpan((int)(position - First) * featurizer.FeatureMapLength, featurizer.FeatureMapLength);
}

/// <summary>Featurises the current row alone (prediction engines, shuffled cursors).</summary>
internal sealed class RowFeatureSource(SpatialFeaturizerTransformer featurizer, ImageInput input, DataViewRow row, bool withMaps)
    : FeatureSource(new FeatureBuffer(featurizer, 1, withMaps))
{
    private readonly Func<byte[]> read = input.Getter(row);

    protected override void Fill(long position) => Buffer.Fill(position, new[] { read() });
}

/// <summary>
/// Featurises rows in batches: a second cursor over the same input (same order, since neither is shuffled) reads the
/// images of the next rows ahead of the served cursor, and one forward pass covers them all. While a batch is being
/// featurised, the following batch's images are read on a worker (the second cursor is only ever used by one thread at
/// a time), so reading and decoding overlap the forward pass. Rows before a requested one are skipped without decoding.
/// </summary>
internal sealed class BatchedFeatureSource : FeatureSource
{
    private readonly DataViewRowCursor lookahead;
    private readonly Func<byte[]> read;
    private readonly int batchSize;
    private Task<List<byte[]>>? following;
    private long followingPosition = -1;

    public BatchedFeatureSource(SpatialFeaturizerTransformer featurizer, ImageInput input, IDataView data, string column, int batchSize, bool withMaps)
        : base(new FeatureBuffer(featurizer, batchSize, withMaps))
    {
        this.batchSize = batchSize;
        lookahead = data.GetRowCursor(new[] { data.Schema[column] });
        read = input.Getter(lookahead);
    }

    protected override void Fill(long position)
    {
        var ahead = Collect(following, used: followingPosition == position);
        following = null;
        var images = ahead is { Count: > 0 } ? ahead : Read(position);
        if (images.Count == 0)
            throw new InvalidOperationException($"The input has fewer rows than position {position}: it changed between cursors.");
        if (images.Count == batchSize)
        {
            followingPosition = position + images.Count;
            long next = followingPosition;
            // A thread of its own (LongRunning), not the pool's: a pool thread blocked on the input would make the pool grow.
            following = Task.Factory.StartNew(() => Read(next), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        Buffer.Fill(position, images);
    }

    /// <summary>The images of up to a batch of rows from <paramref name="position"/>; none when the input ends before it.</summary>
    private List<byte[]> Read(long position)
    {
        while (lookahead.Position < position)
        {
            if (!lookahead.MoveNext()) return new List<byte[]>();
        }
        if (lookahead.Position != position)
            throw new InvalidOperationException("Rows were requested out of order; batched featurisation needs a forward-only cursor.");
        var images = new List<byte[]> { read() };
        while (images.Count < batchSize && lookahead.MoveNext()) images.Add(read());
        return images;
    }

    /// <summary>
    /// Waits for a read ahead (the cursor is free again after it). When its rows are the ones asked for, returns them, its
    /// error (an unreadable image, say) surfacing as itself, as an inline read's would; otherwise null: rows that are
    /// skipped raise nothing.
    /// </summary>
    private static List<byte[]>? Collect(Task<List<byte[]>>? task, bool used)
    {
        if (task is null) return null;
        if (!used)
        {
            try { task.Wait(); } catch (AggregateException) { }
            return null;
        }
        return task.GetAwaiter().GetResult();
    }

    public override void Dispose()
    {
        // The worker may still be reading with the cursor; its result or error no longer matters.
        try { following?.Wait(); } catch (AggregateException) { }
        lookahead.Dispose();
    }
}
