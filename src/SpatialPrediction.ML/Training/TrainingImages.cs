using Microsoft.Win32.SafeHandles;
using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// The training pictures as the engine reads them: N pictures, each at its own size and aspect ratio, gathered by
/// index into a <see cref="PictureBatch"/> that the views are cut from. Held as one tensor or a list in memory, or as
/// planes in a temporary file read per batch, so that memory does not grow with the dataset; every store gives the
/// same pictures, byte for byte.
/// </summary>
internal abstract class TrainingImages : IDisposable
{
    /// <summary>Number of pictures.</summary>
    public abstract long Count { get; }

    /// <summary>Where the pictures are kept, for the run's log ("memory" or the file).</summary>
    public abstract string Location { get; }

    /// <summary>The pictures at <paramref name="indices"/>, each [3, H, W] on the CPU; the caller disposes the batch.</summary>
    public abstract PictureBatch Gather(ReadOnlySpan<long> indices);

    /// <inheritdoc />
    public abstract void Dispose();

    /// <summary>Throws unless <paramref name="index"/> names one of the pictures.</summary>
    protected void CheckIndex(long index)
    {
        if (index < 0 || index >= Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"No picture {index} of {Count}.");
    }
}

/// <summary>Pictures held in one tensor [N, 3, H, W] (bytes or floats in [0, 1]), disposed with this when <paramref name="owned"/>.</summary>
internal sealed class TensorTrainingImages(Tensor images, bool owned = false) : TrainingImages
{
    public override long Count => images.shape[0];
    public override string Location => "memory";

    public override PictureBatch Gather(ReadOnlySpan<long> indices)
    {
        var pictures = new Tensor[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            CheckIndex(indices[i]);
            pictures[i] = images[indices[i]];
        }
        return new PictureBatch(pictures);
    }

    public override void Dispose()
    {
        if (owned) images.Dispose();
    }
}

/// <summary>One decoded picture: channel-planar RGB bytes (3 · height · width).</summary>
internal readonly record struct DecodedPicture(byte[] Planes, int Height, int Width)
{
    /// <summary>The picture as a byte tensor [3, H, W].</summary>
    public Tensor ToTensor() => tensor(Planes, new long[] { 3, Height, Width }, dtype: ScalarType.Byte);
}

/// <summary>Pictures of any sizes held in memory as byte planes.</summary>
internal sealed class MemoryTrainingImages(IReadOnlyList<DecodedPicture> pictures) : TrainingImages
{
    public override long Count => pictures.Count;
    public override string Location => "memory";

    public override PictureBatch Gather(ReadOnlySpan<long> indices)
    {
        var batch = new Tensor[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            CheckIndex(indices[i]);
            batch[i] = pictures[(int)indices[i]].ToTensor();
        }
        return new PictureBatch(batch);
    }

    public override void Dispose() { }
}

/// <summary>
/// Pictures as RGB byte planes in a temporary file that no process outlives, with an index of where each one starts
/// and its size: reading a batch reads its planes, so resident memory is a batch, not the dataset. Reads are positional
/// and safe from the loader thread and the training thread at once.
/// </summary>
internal sealed class FileTrainingImages : TrainingImages
{
    private readonly SafeFileHandle handle;
    private readonly long[] offsets;
    private readonly int[] heights, widths;

    private FileTrainingImages(SafeFileHandle handle, string path, long[] offsets, int[] heights, int[] widths)
    {
        this.handle = handle;
        this.offsets = offsets;
        this.heights = heights;
        this.widths = widths;
        Location = path;
    }

    public override long Count => offsets.Length;
    public override string Location { get; }

    /// <summary>Bytes the pictures take in the file.</summary>
    public long Bytes => Enumerable.Range(0, offsets.Length).Sum(i => 3L * heights[i] * widths[i]);

    /// <summary>A writer that appends planes to a new temporary file in <paramref name="folder"/> (default: the system's temporary folder).</summary>
    public static Writer Create(string? folder = null)
    {
        folder ??= Path.GetTempPath();
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, $"spatial-prediction-images-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
        // On Unix the name goes at once (the open handle keeps the data), so not even a killed process leaves the file
        // behind; Windows deletes it when the last handle closes, kill included.
        if (!OperatingSystem.IsWindows()) File.Delete(path);
        return new Writer(handle, path);
    }

    public override PictureBatch Gather(ReadOnlySpan<long> indices)
    {
        var batch = new Tensor[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            CheckIndex(indices[i]);
            int k = (int)indices[i];
            var planes = new byte[3 * heights[k] * widths[k]];
            int read = RandomAccess.Read(handle, planes, offsets[k]);
            if (read != planes.Length)
                throw new IOException($"{Location}: picture {k} is short ({read} of {planes.Length} bytes); the cache file was changed.");
            batch[i] = new DecodedPicture(planes, heights[k], widths[k]).ToTensor();
        }
        return new PictureBatch(batch);
    }

    public override void Dispose() => handle.Dispose();

    /// <summary>Appends pictures; <see cref="Finish"/> hands the file over for reading, in an order of the caller's choosing.</summary>
    internal sealed class Writer(SafeFileHandle handle, string path) : IDisposable
    {
        private readonly List<(long Offset, int Height, int Width)> index = new();
        private long length;
        private bool finished;

        /// <summary>Pictures written so far.</summary>
        public int Count => index.Count;

        /// <summary>Appends one picture; returns its position in the file's index.</summary>
        public int Append(DecodedPicture picture)
        {
            if (picture.Planes.Length != 3 * picture.Height * picture.Width)
                throw new ArgumentException($"A {picture.Width}×{picture.Height} picture is {3 * picture.Height * picture.Width} bytes, not {picture.Planes.Length}.", nameof(picture));
            RandomAccess.Write(handle, picture.Planes, length);
            index.Add((length, picture.Height, picture.Width));
            length += picture.Planes.Length;
            return index.Count - 1;
        }

        /// <summary>The pictures for reading; picture i of the result is the one appended at <paramref name="order"/>[i] (default: append order).</summary>
        public FileTrainingImages Finish(IReadOnlyList<int>? order = null)
        {
            finished = true;
            order ??= Enumerable.Range(0, index.Count).ToArray();
            return new FileTrainingImages(handle, path, order.Select(i => index[i].Offset).ToArray(),
                order.Select(i => index[i].Height).ToArray(), order.Select(i => index[i].Width).ToArray());
        }

        public void Dispose()
        {
            if (!finished) handle.Dispose();
        }
    }
}
