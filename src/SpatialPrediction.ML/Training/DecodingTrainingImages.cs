using System.Collections.Concurrent;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.MLNet;
using SpatialPrediction.ML.Views;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// Pictures that are never kept (<see cref="TrainingImageCache.None"/>): every batch decodes its files again, on up to
/// <paramref name="threads"/> threads, and shrinks them to <paramref name="maxSide"/> as the caches do, so neither memory
/// nor disk grows with the collection and the pictures are the same as a cache would hold. A file that cannot be read
/// is an error naming it; with <paramref name="skipped"/> set it is listed there instead ("row N: reason", once) and its
/// place in every batch goes to the next readable picture, so batches keep their size and a resumed run its batches.
/// </summary>
internal sealed class DecodingTrainingImages(IReadOnlyList<string> paths, int maxSide, int threads, List<string>? skipped) : TrainingImages
{
    private readonly ConcurrentDictionary<long, bool> unreadable = new();

    public override long Count => paths.Count;
    public override string Location => "decoded from the files for every batch";

    public override PictureBatch Gather(ReadOnlySpan<long> indices)
    {
        var wanted = indices.ToArray();
        foreach (long index in wanted) CheckIndex(index);
        var pictures = new DecodedPicture[wanted.Length];
        try
        {
            Parallel.For(0, wanted.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i => pictures[i] = Read(wanted[i]));
        }
        catch (AggregateException e)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
        return new PictureBatch(pictures.Select(p => p.ToTensor()).ToList());
    }

    private DecodedPicture Read(long index)
    {
        for (long k = index, tried = 0; tried < Count; k = (k + 1) % Count, tried++)
        {
            if (unreadable.ContainsKey(k)) continue;
            try
            {
                using var image = ImageDecoder.DecodeFile(paths[(int)k]);
                return ImageColumn.ToPicture(image, maxSide, "Image", k, "SpatialPretrain");
            }
            catch (Exception e) when (e is InvalidDataException or InvalidOperationException or IOException)
            {
                if (skipped is null)
                    throw new InvalidDataException($"SpatialPretrain: training picture {k} could not be read while training: {e.Message} " +
                                                   "Set SkipUnreadableImages to skip such files and go on.", e);
                if (unreadable.TryAdd(k, true))
                    lock (skipped) skipped.Add($"row {k}: {e.Message} (found while training; the next readable picture takes its place)");
            }
        }
        throw new InvalidDataException($"SpatialPretrain: none of the {Count} training pictures can be read any more.");
    }

    public override void Dispose() { }
}
