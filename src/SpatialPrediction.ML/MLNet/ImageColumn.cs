using SpatialPrediction.ML.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.MLNet;

/// <summary>
/// Reads an ML.NET image column (<see cref="MLImage"/> values, <see cref="ImageDataViewType"/>) into tensors, and
/// checks schemas for it with errors that name the column, what it holds and what was expected.
/// </summary>
internal static class ImageColumn
{
    /// <summary>The same check as <see cref="ImageInput.For"/> on a schema shape (estimators' <c>GetOutputSchema</c>).</summary>
    public static void Check(SchemaShape shape, string name, string component)
    {
        int index = shape.ToList().FindLastIndex(c => c.Name == name);
        if (index < 0)
            throw new ArgumentOutOfRangeException(nameof(shape),
                $"{component}: input column '{name}' was not found. The input has: {string.Join(", ", shape.Select(c => $"'{c.Name}'"))}.");
        var column = shape[index];
        bool scalar = column.Kind == SchemaShape.Column.VectorKind.Scalar;
        bool ok = (scalar && column.ItemType is ImageDataViewType)
                  || (!scalar && column.ItemType == NumberDataViewType.Byte)
                  || (column.Kind == SchemaShape.Column.VectorKind.Vector && column.ItemType == NumberDataViewType.Single);
        if (!ok)
        {
            string item = column.ItemType?.ToString() ?? "unknown";
            throw new ArgumentOutOfRangeException(nameof(shape), ImageInput.Expected(component, name, scalar ? item : $"{column.Kind} of {item}"));
        }
    }

    /// <summary>
    /// Reads every image of the column, resized to <paramref name="size"/>×<paramref name="size"/>, as RGB bytes: into
    /// one tensor in memory, or, for <see cref="TrainingImageCache.Disk"/> and for <see cref="TrainingImageCache.Auto"/>
    /// past <paramref name="memoryLimitBytes"/>, into a temporary file, so that memory does not grow with the dataset.
    /// </summary>
    public static TrainingImages ReadImages(IDataView data, ImageInput input, string name, int size, List<string>? skipped,
        TrainingImageCache cache, long memoryLimitBytes, string? folder, Action<string>? log)
    {
        int plane = 3 * size * size;
        var inMemory = new List<byte[]>();
        FileTrainingImages.Writer? file = cache == TrainingImageCache.Disk ? FileTrainingImages.Create(size, folder) : null;
        try
        {
            using (var cursor = data.GetRowCursor(new[] { data.Schema[name] }))
            {
                var read = input.Getter(cursor);
                while (cursor.MoveNext())
                {
                    byte[] planes;
                    try
                    {
                        planes = read();
                    }
                    catch (Exception e) when (skipped is not null && e is InvalidDataException or InvalidOperationException)
                    {
                        skipped.Add($"row {cursor.Position}: {e.Message}");
                        continue;
                    }
                    if (file is not null)
                    {
                        file.Append(planes);
                        continue;
                    }
                    inMemory.Add(planes);
                    if (cache == TrainingImageCache.Auto && (long)inMemory.Count * plane > memoryLimitBytes)
                    {
                        file = FileTrainingImages.Create(size, folder);
                        foreach (var kept in inMemory) file.Append(kept);
                        inMemory.Clear();
                        log?.Invoke($"More than {memoryLimitBytes >> 20} MB of training images: the rest of the run reads them from a temporary file.");
                    }
                }
            }
            if (file is not null)
            {
                var images = file.Finish();
                log?.Invoke($"Training images: {images.Count} pictures of {size} px in {images.Location} ({images.Count * plane >> 20} MB on disk).");
                return images;
            }
            // Copied into the tensor in chunks, each row released as it goes, so the peak is one dataset and a chunk.
            var all = zeros(new long[] { inMemory.Count, 3, size, size }, dtype: ScalarType.Byte);
            const int chunk = 256;
            for (int start = 0; start < inMemory.Count; start += chunk)
            {
                int count = Math.Min(chunk, inMemory.Count - start);
                var buffer = new byte[count * plane];
                for (int i = 0; i < count; i++)
                {
                    inMemory[start + i].CopyTo(buffer, i * plane);
                    inMemory[start + i] = null!;
                }
                using var part = tensor(buffer, new long[] { count, 3, size, size }, dtype: ScalarType.Byte);
                all.narrow(0, start, count).copy_(part);
            }
            return new TensorTrainingImages(all, owned: true);
        }
        catch
        {
            file?.Dispose();
            throw;
        }
    }

    /// <summary>One image as a float tensor [1, 3, size, size] in [0, 1] on <paramref name="device"/>.</summary>
    public static Tensor ToTensor(MLImage image, int size, Device device, string columnName, long row, string component)
        => UnitBatch(ToRgbPlanes(image, size, columnName, row, component), 1, size, device);

    /// <summary><paramref name="count"/> images of planar RGB bytes (3·size·size each) as a float batch in [0, 1].</summary>
    public static Tensor UnitBatch(byte[] planes, int count, int size, Device? device = null)
        => tensor(planes, new long[] { count, 3, size, size }, dtype: ScalarType.Byte).to(device ?? CPU).to_type(ScalarType.Float32).div_(Backbones.ProcessScalars.ByteMax);

    /// <summary>Channel-planar RGB bytes of the image, resized (area-averaged when shrinking) to size×size.</summary>
    public static byte[] ToRgbPlanes(MLImage? image, int size, string columnName, long row, string component,
        ImageResizingEstimator.ResizingKind resizing = ImageResizingEstimator.ResizingKind.Fill)
    {
        var (planes, height, width) = ToNativePlanes(image, columnName, row, component);
        return ResizePlanes(planes, height, width, size, resizing);
    }

    /// <summary>Channel-planar RGB bytes of the image at its own size.</summary>
    public static (byte[] Planes, int Height, int Width) ToNativePlanes(MLImage? image, string columnName, long row, string component)
    {
        if (image is null)
            throw new InvalidOperationException($"{component}: row {row} of column '{columnName}' holds no image (null). Remove or fix that row.");
        int width = image.Width, height = image.Height;
        if (width < 1 || height < 1)
            throw new InvalidOperationException($"{component}: row {row} of column '{columnName}' has an empty image ({width}×{height}).");
        var (r, g, b) = image.PixelFormat switch
        {
            MLPixelFormat.Rgba32 => (0, 1, 2),
            MLPixelFormat.Bgra32 => (2, 1, 0),
            _ => throw new InvalidOperationException(
                $"{component}: row {row} of column '{columnName}' has pixel format {image.PixelFormat}; expected Rgba32 or Bgra32."),
        };
        ReadOnlySpan<byte> source = image.Pixels;
        int plane = width * height;
        var planes = new byte[3 * plane];
        for (int p = 0; p < plane; p++)
        {
            planes[p] = source[4 * p + r];
            planes[plane + p] = source[4 * p + g];
            planes[2 * plane + p] = source[4 * p + b];
        }
        return (planes, height, width);
    }

    /// <summary>An ML.NET image (RGBA, opaque) from a float tensor [3, H, W] with values in [0, 1].</summary>
    public static MLImage ToMLImage(Tensor rgb)
    {
        int height = (int)rgb.shape[1], width = (int)rgb.shape[2];
        using var scope = NewDisposeScope();
        var bytes = (rgb * 255f).round().clamp(0, 255).to_type(ScalarType.Byte).permute(1, 2, 0).contiguous().data<byte>().ToArray();
        var rgba = new byte[width * height * 4];
        for (int p = 0, q = 0; p < bytes.Length; p += 3, q += 4)
        {
            rgba[q] = bytes[p];
            rgba[q + 1] = bytes[p + 1];
            rgba[q + 2] = bytes[p + 2];
            rgba[q + 3] = 255;
        }
        return MLImage.CreateFromPixels(width, height, MLPixelFormat.Rgba32, rgba);
    }

    /// <summary>
    /// Planar RGB bytes resized (bilinear, antialiased when shrinking) to size×size. A picture that is not square is
    /// first made square the way ML.NET's <c>ResizeImages</c> names it: <c>Fill</c> stretches it, <c>IsoCrop</c> keeps
    /// the centred square of its shorter side, <c>IsoPad</c> centres it on a black square of its longer side.
    /// </summary>
    public static byte[] ResizePlanes(byte[] planes, int height, int width, int size,
        ImageResizingEstimator.ResizingKind resizing = ImageResizingEstimator.ResizingKind.Fill)
    {
        if (width == size && height == size) return planes;
        using var scope = NewDisposeScope();
        var original = tensor(planes, new long[] { 1, 3, height, width }, dtype: ScalarType.Byte).to_type(ScalarType.Float32);
        if (height != width && resizing == ImageResizingEstimator.ResizingKind.IsoCrop)
        {
            int side = Math.Min(height, width);
            original = original.narrow(2, (height - side) / 2, side).narrow(3, (width - side) / 2, side);
        }
        else if (height != width && resizing == ImageResizingEstimator.ResizingKind.IsoPad)
        {
            int side = Math.Max(height, width), top = (side - height) / 2, left = (side - width) / 2;
            original = nn.functional.pad(original, new long[] { left, side - width - left, top, side - height - top });
        }
        var resized = nn.functional.interpolate(original, new long[] { size, size }, mode: InterpolationMode.Bilinear,
            align_corners: false, antialias: true);
        return resized.round().clamp(0, 255).to_type(ScalarType.Byte).data<byte>().ToArray();
    }
}
