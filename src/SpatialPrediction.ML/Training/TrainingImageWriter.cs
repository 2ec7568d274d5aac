using SpatialPrediction.ML.MLNet;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// Collects decoded pictures from any number of decoding threads under the cache policy (<see cref="TrainingImageCache"/>):
/// in memory, or in a temporary file from the start or once past the memory limit. Every picture comes with the key of
/// its input row, and <see cref="Finish"/> hands them over in key order, so the order (and so every batch of the run)
/// does not depend on how the decoding threads interleaved.
/// </summary>
internal sealed class TrainingImageWriter(TrainingImageCache cache, long memoryLimitBytes, string? folder, Action<string>? log) : IDisposable
{
    private readonly object gate = new();
    private readonly List<(UInt128 Key, DecodedPicture Picture)> inMemory = new();
    private readonly List<(UInt128 Key, int Position)> inFile = new();
    private FileTrainingImages.Writer? file = cache == TrainingImageCache.Disk ? FileTrainingImages.Create(folder) : null;
    private long memoryBytes;

    /// <summary>Adds a picture; safe from several threads at once.</summary>
    public void Add(UInt128 key, DecodedPicture picture)
    {
        lock (gate)
        {
            if (file is not null)
            {
                inFile.Add((key, file.Append(picture)));
                return;
            }
            inMemory.Add((key, picture));
            memoryBytes += picture.Planes.Length;
            if (cache == TrainingImageCache.Auto && memoryBytes > memoryLimitBytes)
            {
                file = FileTrainingImages.Create(folder);
                foreach (var (k, kept) in inMemory) inFile.Add((k, file.Append(kept)));
                inMemory.Clear();
                memoryBytes = 0;
                log?.Invoke($"More than {memoryLimitBytes >> 20} MB of training images: the rest of the run reads them from a temporary file.");
            }
        }
    }

    /// <summary>The pictures, in key order.</summary>
    public TrainingImages Finish()
    {
        lock (gate)
        {
            if (file is not null)
            {
                var order = inFile.OrderBy(e => e.Key).Select(e => e.Position).ToArray();
                var images = file.Finish(order);
                file = null;
                log?.Invoke($"Training images: {images.Count} pictures in {images.Location} ({images.Bytes >> 20} MB on disk).");
                return images;
            }
            var pictures = inMemory.OrderBy(e => e.Key).Select(e => e.Picture).ToList();
            inMemory.Clear();
            log?.Invoke($"Training images: {pictures.Count} pictures in memory ({pictures.Sum(p => (long)p.Planes.Length) >> 20} MB).");
            return new MemoryTrainingImages(pictures);
        }
    }

    /// <summary>Releases the file of an unfinished run.</summary>
    public void Dispose() => file?.Dispose();
}
