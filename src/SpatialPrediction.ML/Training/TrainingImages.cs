using Microsoft.Win32.SafeHandles;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// The training images as the engine reads them: N pictures of 3 × S × S, gathered by index into float batches in
/// [0, 1]. Held as one tensor in memory, or as planes in a temporary file read per batch, so that memory does not
/// grow with the dataset; both give the same batches, byte for byte.
/// </summary>
internal abstract class TrainingImages : IDisposable
{
    /// <summary>Number of pictures.</summary>
    public abstract long Count { get; }

    /// <summary>Side of every picture.</summary>
    public abstract int Size { get; }

    /// <summary>Where the pictures are kept, for the run's log ("memory" or the file).</summary>
    public abstract string Location { get; }

    /// <summary>The pictures at <paramref name="indices"/> as a float batch [B, 3, S, S] in [0, 1] on <paramref name="device"/>.</summary>
    public abstract Tensor Gather(ReadOnlySpan<long> indices, Device device);

    /// <inheritdoc />
    public abstract void Dispose();

    /// <summary>Bytes divided by 255, as every path into the backbone expects.</summary>
    protected static Tensor ToUnit(Tensor batch)
        => batch.dtype == ScalarType.Byte ? batch.to_type(ScalarType.Float32).div_(Backbones.ProcessScalars.ByteMax) : batch;
}

/// <summary>Pictures held in one tensor [N, 3, S, S] (bytes or floats in [0, 1]), disposed with this when <paramref name="owned"/>.</summary>
internal sealed class TensorTrainingImages(Tensor images, bool owned = false) : TrainingImages
{
    public override long Count => images.shape[0];
    public override int Size => (int)images.shape[2];
    public override string Location => "memory";

    public override Tensor Gather(ReadOnlySpan<long> indices, Device device)
    {
        var index = tensor(indices.ToArray(), dtype: ScalarType.Int64);
        return ToUnit(images.index_select(0, index).to(device));
    }

    public override void Dispose()
    {
        if (owned) images.Dispose();
    }
}

/// <summary>
/// Pictures as RGB byte planes (3 · S · S each) in a temporary file that no process outlives:
/// reading a batch reads its planes, so resident memory is a batch, not the dataset. Reads are positional and safe
/// from the loader thread and the training thread at once.
/// </summary>
internal sealed class FileTrainingImages : TrainingImages
{
    private readonly SafeFileHandle handle;
    private readonly int plane;

    private FileTrainingImages(SafeFileHandle handle, string path, long count, int size)
    {
        this.handle = handle;
        Location = path;
        Count = count;
        Size = size;
        plane = 3 * size * size;
    }

    public override long Count { get; }
    public override int Size { get; }
    public override string Location { get; }

    /// <summary>A writer that appends planes to a new temporary file in <paramref name="folder"/> (default: the system's temporary folder).</summary>
    public static Writer Create(int size, string? folder = null)
    {
        folder ??= Path.GetTempPath();
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, $"spatial-prediction-images-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
        // On Unix the name goes at once (the open handle keeps the data), so not even a killed process leaves the file
        // behind; Windows deletes it when the last handle closes, kill included.
        if (!OperatingSystem.IsWindows()) File.Delete(path);
        return new Writer(handle, path, size);
    }

    public override Tensor Gather(ReadOnlySpan<long> indices, Device device)
    {
        var bytes = new byte[indices.Length * plane];
        for (int i = 0; i < indices.Length; i++)
        {
            if (indices[i] < 0 || indices[i] >= Count) throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"No picture {indices[i]} of {Count}.");
            int read = RandomAccess.Read(handle, bytes.AsSpan(i * plane, plane), indices[i] * plane);
            if (read != plane) throw new IOException($"{Location}: picture {indices[i]} is short ({read} of {plane} bytes); the cache file was changed.");
        }
        return ToUnit(tensor(bytes, new long[] { indices.Length, 3, Size, Size }, dtype: ScalarType.Byte).to(device));
    }

    public override void Dispose() => handle.Dispose();

    /// <summary>Appends planes; <see cref="Finish"/> hands the file over for reading.</summary>
    internal sealed class Writer(SafeFileHandle handle, string path, int size) : IDisposable
    {
        private readonly int plane = 3 * size * size;
        private long count;
        private bool finished;

        public long Count => count;

        public void Append(ReadOnlySpan<byte> planes)
        {
            if (planes.Length != plane) throw new ArgumentException($"A picture is {plane} bytes at {size} px, not {planes.Length}.", nameof(planes));
            RandomAccess.Write(handle, planes, count * plane);
            count++;
        }

        public FileTrainingImages Finish()
        {
            finished = true;
            return new FileTrainingImages(handle, path, count, size);
        }

        public void Dispose()
        {
            if (!finished) handle.Dispose();
        }
    }
}
