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
    /// Reads every image of the column with its own aspect ratio, shrunk (antialiased) where its shorter side is longer
    /// than <paramref name="maxSide"/>, never enlarged, into the store the cache policy names. Rows are decoded on up to
    /// <paramref name="decodeThreads"/> threads (0: one per core) through the view's own cursor set, and kept in the
    /// order of their row ids, so the result does not depend on the number of threads. With <paramref name="skipped"/>
    /// set, unreadable rows are listed there ("row N: reason") instead of failing the read.
    /// </summary>
    public static TrainingImages ReadImages(IDataView data, ImageInput input, string name, int maxSide, List<string>? skipped,
        TrainingImageCache cache, long memoryLimitBytes, string? folder, int decodeThreads, Action<string>? log)
    {
        var columns = new[] { data.Schema[name] };
        int threads = decodeThreads > 0 ? decodeThreads : Environment.ProcessorCount;
        var cursors = threads > 1 ? data.GetRowCursorSet(columns, threads) : new[] { data.GetRowCursor(columns) };
        var failures = new List<(UInt128 Key, string Message)>();
        // Without skipping, the error of the first unreadable row, whichever thread meets it: each cursor's row ids
        // rise, so a cursor stops once it passes the earliest failure seen, and that failure is the one reported.
        (UInt128 Key, Exception Error)? earliest = null;
        using var writer = new TrainingImageWriter(cache, memoryLimitBytes, folder, log);
        try
        {
            Parallel.ForEach(cursors, new ParallelOptions { MaxDegreeOfParallelism = cursors.Length }, cursor =>
            {
                var getId = cursor.GetIdGetter();
                DataViewRowId id = default;
                var read = input.NativeGetter(cursor, maxSide, () => { getId(ref id); return (long)id.Low; });
                while (cursor.MoveNext())
                {
                    getId(ref id);
                    var key = new UInt128(id.High, id.Low);
                    lock (failures)
                    {
                        if (earliest is { } known && known.Key < key) return;
                    }
                    DecodedPicture picture;
                    try
                    {
                        picture = read();
                    }
                    catch (Exception e) when (skipped is not null && e is InvalidDataException or InvalidOperationException)
                    {
                        lock (failures) failures.Add((key, $"row {id.Low}: {e.Message}"));
                        continue;
                    }
                    catch (Exception e) when (skipped is null)
                    {
                        lock (failures)
                        {
                            if (earliest is not { } known || key < known.Key) earliest = (key, e);
                        }
                        return;
                    }
                    writer.Add(key, picture);
                }
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
        {
            // A failure skipping does not cover, with its own message and type.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
        finally
        {
            foreach (var cursor in cursors) cursor.Dispose();
        }
        // As the caller would have seen it from one thread, with its own message and type.
        if (earliest is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure.Error).Throw();
        skipped?.AddRange(failures.OrderBy(f => f.Key).Select(f => f.Message));
        return writer.Finish();
    }

    /// <summary>One image as a float tensor [1, 3, size, size] in [0, 1] on <paramref name="device"/>.</summary>
    public static Tensor ToTensor(MLImage image, int size, Device device, string columnName, long row, string component)
        => UnitBatch(ToRgbPlanes(image, size, columnName, row, component), 1, size, device);

    /// <summary>
    /// The first <paramref name="count"/> images of planar RGB bytes (3·size·size each; a batch buffer may hold more) as a
    /// float batch in [0, 1].
    /// </summary>
    public static Tensor UnitBatch(byte[] planes, int count, int size, Device? device = null)
    {
        int length = count * 3 * size * size;
        var bytes = planes.Length == length ? planes : planes[..length];
        return tensor(bytes, new long[] { count, 3, size, size }, dtype: ScalarType.Byte).to(device ?? CPU).to_type(ScalarType.Float32).div_(Backbones.ProcessScalars.ByteMax);
    }

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
        var (height, width) = CheckedSize(image, columnName, row, component);
        var planes = new byte[3 * height * width];
        WritePlanes(image!, planes, columnName, row, component);
        return (planes, height, width);
    }

    /// <summary>The image's height and width; throws naming the row when there is no image or it is empty.</summary>
    public static (int Height, int Width) CheckedSize(MLImage? image, string columnName, long row, string component)
    {
        if (image is null)
            throw new InvalidOperationException($"{component}: row {row} of column '{columnName}' holds no image (null). Remove or fix that row.");
        int width = image.Width, height = image.Height;
        if (width < 1 || height < 1)
            throw new InvalidOperationException($"{component}: row {row} of column '{columnName}' has an empty image ({width}×{height}).");
        return (height, width);
    }

    /// <summary>
    /// Writes the image's pixels as channel-planar RGB bytes at its own size into <paramref name="destination"/>
    /// (3·height·width bytes), so a batch can be assembled in place.
    /// </summary>
    public static void WritePlanes(MLImage image, Span<byte> destination, string columnName, long row, string component)
    {
        var (r, g, b) = image.PixelFormat switch
        {
            MLPixelFormat.Rgba32 => (0, 1, 2),
            MLPixelFormat.Bgra32 => (2, 1, 0),
            _ => throw new InvalidOperationException(
                $"{component}: row {row} of column '{columnName}' has pixel format {image.PixelFormat}; expected Rgba32 or Bgra32."),
        };
        ReadOnlySpan<byte> source = image.Pixels;
        int plane = image.Width * image.Height;
        var red = destination[..plane];
        var green = destination.Slice(plane, plane);
        var blue = destination.Slice(2 * plane, plane);
        for (int p = 0, q = 0; p < plane; p++, q += 4)
        {
            red[p] = source[q + r];
            green[p] = source[q + g];
            blue[p] = source[q + b];
        }
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

    /// <summary>An ML.NET image as the training caches keep it: planar RGB, shorter side at most <paramref name="maxSide"/> (see <see cref="Shrink"/>).</summary>
    public static DecodedPicture ToPicture(MLImage? image, int maxSide, string columnName, long row, string component)
    {
        var (planes, height, width) = ToNativePlanes(image, columnName, row, component);
        return Shrink(planes, height, width, maxSide);
    }

    /// <summary>
    /// The picture with its aspect ratio kept and its shorter side at most <paramref name="maxSide"/> (shrunk bilinear
    /// and antialiased; never enlarged).
    /// </summary>
    public static DecodedPicture Shrink(byte[] planes, int height, int width, int maxSide)
    {
        int shorter = Math.Min(height, width);
        if (maxSide <= 0 || shorter <= maxSide) return new DecodedPicture(planes, height, width);
        double scale = (double)maxSide / shorter;
        int h = height == shorter ? maxSide : Math.Max(1, (int)Math.Round(height * scale));
        int w = width == shorter ? maxSide : Math.Max(1, (int)Math.Round(width * scale));
        using var scope = NewDisposeScope();
        var original = tensor(planes, new long[] { 1, 3, height, width }, dtype: ScalarType.Byte).to_type(ScalarType.Float32);
        var resized = nn.functional.interpolate(original, new long[] { h, w }, mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
        return new DecodedPicture(resized.round().clamp(0, 255).to_type(ScalarType.Byte).data<byte>().ToArray(), h, w);
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
