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
    private readonly CancellationTokenSource stop = new();
    private readonly Action<string>? log;
    private BlockingCollection<TrainingBatch>? queue;
    private Thread? thread;
    private long next;
    private Probe? probe;
    private Exception? failure;
    private (int Epoch, long[] Order)? order;

    /// <summary>
    /// Starts producing micro-batches <paramref name="start"/> … <paramref name="end"/> − 1, <paramref name="prefetch"/>
    /// ahead on a loader thread (0: on the caller's thread; null: measured — see <see cref="MeasuredPrefetchShare"/>).
    /// </summary>
    public BatchLoader(TrainingImages images, long[] trainIndices, int batchSize, int seed, IReadOnlyList<TrainingTerm> terms,
        Device device, long start, long end, int? prefetch, Action<string>? log = null)
    {
        this.log = log;
        this.images = images;
        this.trainIndices = trainIndices;
        this.batchSize = batchSize;
        this.seed = seed;
        this.terms = terms;
        this.device = device;
        this.end = end;
        next = start;
        if (prefetch is null) probe = new Probe();
        else if (prefetch > 0) StartThread(prefetch.Value);
    }

    /// <summary>
    /// Batches probed on the caller's thread before a measured loader decides (the first one, a warm-up, is not counted),
    /// and the share of a step that making the views must take for one batch ahead to pay: on 2 cores a loader thread
    /// competes with libtorch's own threads, which costs more than it saves when views are a small part of the step.
    /// </summary>
    internal const int ProbeBatches = 5;
    internal const double MeasuredPrefetchShare = 0.08;

    /// <summary>Batches made ahead, once decided (0 while probing or inline).</summary>
    public int Prefetching { get; private set; }

    private void StartThread(int prefetch)
    {
        if (next >= end) return;
        Prefetching = prefetch;
        queue = new BlockingCollection<TrainingBatch>(prefetch);
        thread = new Thread(Produce) { IsBackground = true, Name = "SpatialPrediction batch loader" };
        thread.Start();
    }

    /// <summary>Times of the probed batches: making each one, and the caller's work between two of them (the step).</summary>
    private sealed class Probe
    {
        public int Made;
        public double MakeSeconds, StepSeconds;
        public long LastReturned;
    }

    /// <summary>Micro-batches in one epoch (the last incomplete one is dropped).</summary>
    public int BatchesPerEpoch => trainIndices.Length / batchSize;

    /// <summary>The next micro-batch; the caller disposes it.</summary>
    public TrainingBatch Next()
    {
        if (queue is null)
        {
            if (next >= end) throw new InvalidOperationException("The run has no more batches.");
            if (probe is null) return Make(next++);
            return MakeProbed();
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

    private TrainingBatch MakeProbed()
    {
        var p = probe!;
        long called = System.Diagnostics.Stopwatch.GetTimestamp();
        if (p.Made > 1) p.StepSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(p.LastReturned, called).TotalSeconds;
        var batch = Make(next++);
        long returned = System.Diagnostics.Stopwatch.GetTimestamp();
        if (p.Made > 0) p.MakeSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(called, returned).TotalSeconds;
        p.Made++;
        p.LastReturned = returned;
        if (p.Made == ProbeBatches + 1)
        {
            // ProbeBatches views timed (batches 2 … P + 1) against the ProbeBatches − 1 steps between them.
            double make = p.MakeSeconds / ProbeBatches, step = p.StepSeconds / (ProbeBatches - 1);
            bool ahead = make >= MeasuredPrefetchShare * step;
            probe = null;
            log?.Invoke($"Batch loader: making views took {1000 * make:F0} ms a batch against {1000 * step:F0} ms for the rest of a step; " +
                        (ahead ? "from now on one batch is made ahead on a loader thread." : "views stay on the training thread.") +
                        " Set PrefetchBatches to choose.");
            if (ahead) StartThread(1);
        }
        return batch;
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
