using System.Collections.Concurrent;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Views;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// Produces the micro-batches of a run, in order, on a loader thread that stays at most <c>prefetch</c> batches ahead
/// (bounded, so memory does not grow when the model is the bottleneck): it gathers the source pictures, cuts every training term's
/// views and augmentations (in the terms' order, from one stream), and moves them to the device. Batch <c>g</c> depends only on (seed, g): image order from
/// the epoch's own random stream, views from the batch's own stream; so a resumed run sees exactly the batches an
/// uninterrupted one would have.
/// </summary>
internal sealed class BatchLoader : IDisposable
{
    private readonly TrainingImages images;
    private readonly long[] trainIndices;
    private readonly int batchSize, seed;
    private readonly IReadOnlyList<TrainingTerm> terms;
    private readonly Device device;
    private readonly long end;
    private readonly BlockingCollection<TrainingBatch>? queue;
    private readonly CancellationTokenSource stop = new();
    private readonly Thread? thread;
    private long next;
    private Exception? failure;
    private (int Epoch, long[] Order)? order;

    /// <summary>Starts producing micro-batches <paramref name="start"/> … <paramref name="end"/> − 1.</summary>
    public BatchLoader(TrainingImages images, long[] trainIndices, int batchSize, int seed, IReadOnlyList<TrainingTerm> terms,
        Device device, long start, long end, int prefetch)
    {
        this.images = images;
        this.trainIndices = trainIndices;
        this.batchSize = batchSize;
        this.seed = seed;
        this.terms = terms;
        this.device = device;
        this.end = end;
        next = start;
        if (prefetch > 0 && start < end)
        {
            queue = new BlockingCollection<TrainingBatch>(prefetch);
            thread = new Thread(Produce) { IsBackground = true, Name = "SpatialPrediction batch loader" };
            thread.Start();
        }
    }

    /// <summary>Micro-batches in one epoch (the last incomplete one is dropped).</summary>
    public int BatchesPerEpoch => trainIndices.Length / batchSize;

    /// <summary>The next micro-batch; the caller disposes it.</summary>
    public TrainingBatch Next()
    {
        if (queue is null)
        {
            if (next >= end) throw new InvalidOperationException("The run has no more batches.");
            return Make(next++);
        }
        try
        {
            return queue.Take(stop.Token);
        }
        catch (InvalidOperationException) when (failure is not null)
        {
            throw new InvalidOperationException("Preparing a training batch failed: " + failure.Message, failure);
        }
    }

    private void Produce()
    {
        try
        {
            for (long g = next; g < end && !stop.IsCancellationRequested; g++)
            {
                var batch = Make(g);
                try
                {
                    queue!.Add(batch, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    batch.Dispose();
                    return;
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            failure = e;
        }
        finally
        {
            queue!.CompleteAdding();
        }
    }

    private TrainingBatch Make(long micro)
    {
        int epoch = (int)(micro / BatchesPerEpoch);
        int position = (int)(micro % BatchesPerEpoch);
        if (order is not { } cached || cached.Epoch != epoch)
        {
            var shuffled = (long[])trainIndices.Clone();
            SeedStreams.For(seed, SeedStreams.EpochOrder, epoch).Shuffle(shuffled);
            order = cached = (epoch, shuffled);
        }
        var random = SeedStreams.For(seed, SeedStreams.Batch, micro);
        using var scope = NewDisposeScope();
        using var pictures = images.Gather(cached.Order.AsSpan(position * batchSize, batchSize));
        var views = new List<ViewSet>(terms.Count);
        try
        {
            foreach (var term in terms) views.Add(term.MakeViews(pictures, random, device).Detach());
        }
        catch
        {
            foreach (var made in views) made.Dispose();
            throw;
        }
        return new TrainingBatch(micro, epoch, views);
    }

    /// <summary>Stops the loader thread and releases batches it had prepared.</summary>
    public void Dispose()
    {
        stop.Cancel();
        thread?.Join();
        if (queue is not null)
        {
            while (queue.TryTake(out var batch)) batch.Dispose();
            queue.Dispose();
        }
        stop.Dispose();
    }
}
