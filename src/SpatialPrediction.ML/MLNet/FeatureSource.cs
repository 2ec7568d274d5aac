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

    /// <summary>Featurises the first <paramref name="count"/> pictures of <paramref name="planes"/> as rows from <paramref name="first"/>.</summary>
    public void Fill(long first, byte[] planes, int count)
    {
        featurizer.FeaturizeInto(planes, count, Pooled, Maps);
        First = first;
        Count = count;
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
    private readonly Action<Span<byte>> read = input.Reader(row);
    private readonly byte[] planes = new byte[input.PlanesLength];

    protected override void Fill(long position)
    {
        read(planes);
        Buffer.Fill(position, planes, 1);
    }
}

/// <summary>
/// Featurises rows in batches: a second cursor over the same input (same order, since neither is shuffled) reads the
/// images of the next rows ahead of the served cursor, and one forward pass covers them all. Pictures are written
/// straight into one of two batch buffers that take turns (one being featurised, one being filled), so a batch makes
/// no per-picture arrays. Rows before a requested one are skipped without decoding.
/// <para>
/// With at least four cores, the following batch's images are read on a worker while a batch is featurised (the
/// second cursor is only ever used by one thread at a time), so reading and decoding overlap the forward pass. With
/// fewer, the engine's own threads already fill the cores and a worker competes with them, so the first batches are
/// read inline and timed: after a warm-up batch (which also calibrates), the next <see cref="ProbeBatches"/> decide,
/// and the worker starts only when reading took at least <see cref="ReadAheadShare"/> of featurising.
/// </para>
/// </summary>
internal sealed class BatchedFeatureSource : FeatureSource
{
    /// <summary>Batches timed inline after the warm-up batch before a source on few cores decides.</summary>
    internal const int ProbeBatches = 2;
    /// <summary>The share of featurising a batch that reading it must take for reading ahead to pay on few cores.</summary>
    internal const double ReadAheadShare = 0.08;

    private readonly DataViewRowCursor lookahead;
    private readonly Action<Span<byte>> read;
    private readonly int batchSize, planesLength;
    private readonly byte[][] batches;
    private int nextBatch;
    private Task<int>? following;
    private byte[]? followingPlanes;
    private long followingPosition = -1;
    private readonly IDisposable heap;
    private int probed;
    private TimeSpan probedReading, probedFeaturizing;

    /// <summary>A source over <paramref name="data"/>; <paramref name="readAhead"/> null decides as the class summary says, true or false fixes it.</summary>
    public BatchedFeatureSource(SpatialFeaturizerTransformer featurizer, ImageInput input, IDataView data, string column, int batchSize, bool withMaps,
        bool? readAhead = null)
        : base(new FeatureBuffer(featurizer, batchSize, withMaps))
    {
        this.batchSize = batchSize;
        ReadsAhead = readAhead ?? (Environment.ProcessorCount >= 4 ? true : null);
        planesLength = input.PlanesLength;
        batches = new[] { new byte[batchSize * planesLength], new byte[batchSize * planesLength] };
        lookahead = data.GetRowCursor(new[] { data.Schema[column] });
        read = input.Reader(lookahead);
        // Last, so a constructor that throws leaves no scope open: the libtorch engine's large activations are
        // recycled from the heap while this cursor reads instead of being mapped afresh every batch.
        heap = SpatialPrediction.ML.Machine.NativeHeapReuse.Hold();
    }

    /// <summary>Whether the next batch is read on a worker; null while the first batches are still being timed.</summary>
    public bool? ReadsAhead { get; private set; }

    protected override void Fill(long position)
    {
        int ahead = Collect(following, used: followingPosition == position);
        following = null;
        byte[] planes;
        int count;
        long reading = System.Diagnostics.Stopwatch.GetTimestamp();
        if (ahead > 0)
        {
            (planes, count) = (followingPlanes!, ahead);
        }
        else
        {
            planes = TakeBatch();
            count = Read(position, planes);
        }
        var readTime = System.Diagnostics.Stopwatch.GetElapsedTime(reading);
        if (count == 0)
            throw new InvalidOperationException($"The input has fewer rows than position {position}: it changed between cursors.");
        if (count == batchSize && ReadsAhead == true)
        {
            followingPosition = position + count;
            long next = followingPosition;
            var into = followingPlanes = TakeBatch();
            // A thread of its own (LongRunning), not the pool's: a pool thread blocked on the input would make the pool grow.
            following = Task.Factory.StartNew(() => Read(next, into), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        long featurizing = System.Diagnostics.Stopwatch.GetTimestamp();
        Buffer.Fill(position, planes, count);
        if (ReadsAhead is null && count == batchSize) Probe(readTime, System.Diagnostics.Stopwatch.GetElapsedTime(featurizing));
    }

    /// <summary>Adds a full batch read inline to the timing; decides once <see cref="ProbeBatches"/> follow the warm-up.</summary>
    private void Probe(TimeSpan reading, TimeSpan featurizing)
    {
        if (probed++ == 0) return; // the warm-up: the first forward pass also calibrates
        probedReading += reading;
        probedFeaturizing += featurizing;
        if (probed > ProbeBatches) ReadsAhead = probedReading >= ReadAheadShare * probedFeaturizing;
    }

    /// <summary>The batch buffer not in use: the other one holds the batch being featurised (or read, for the worker).</summary>
    private byte[] TakeBatch()
    {
        var planes = batches[nextBatch];
        nextBatch = 1 - nextBatch;
        return planes;
    }

    /// <summary>
    /// Reads the pictures of up to a batch of rows from <paramref name="position"/> into <paramref name="planes"/>; returns
    /// how many (none when the input ends before it).
    /// </summary>
    private int Read(long position, byte[] planes)
    {
        while (lookahead.Position < position)
        {
            if (!lookahead.MoveNext()) return 0;
        }
        if (lookahead.Position != position)
            throw new InvalidOperationException("Rows were requested out of order; batched featurisation needs a forward-only cursor.");
        int count = 0;
        do read(planes.AsSpan(count++ * planesLength, planesLength));
        while (count < batchSize && lookahead.MoveNext());
        return count;
    }

    /// <summary>
    /// Waits for a read ahead (the cursor is free again after it). When its rows are the ones asked for, returns how many
    /// it read, its error (an unreadable image, say) surfacing as itself, as an inline read's would; otherwise 0: rows
    /// that are skipped raise nothing.
    /// </summary>
    private static int Collect(Task<int>? task, bool used)
    {
        if (task is null) return 0;
        if (!used)
        {
            try { task.Wait(); } catch (AggregateException) { }
            return 0;
        }
        return task.GetAwaiter().GetResult();
    }

    public override void Dispose()
    {
        // The worker may still be reading with the cursor; its result or error no longer matters.
        try { following?.Wait(); } catch (AggregateException) { }
        lookahead.Dispose();
        heap.Dispose();
    }
}
