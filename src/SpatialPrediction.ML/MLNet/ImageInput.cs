using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.MLNet;

/// <summary>The kinds of input column a featuriser reads.</summary>
internal enum ImageInputKind
{
    /// <summary>An ML.NET image column (<see cref="MLImage"/>, e.g. from <c>LoadImages</c>).</summary>
    Image = 0,
    /// <summary>Encoded image files (PNG, JPEG, BMP, ...) as a vector of bytes.</summary>
    EncodedBytes = 1,
    /// <summary>A known-size vector of floats from <c>ExtractPixels</c>: planar R, G, B, values 0–255 (default options of ExtractPixels without interleave, offset or scale).</summary>
    PixelVector = 2,
}

/// <summary>
/// Reads one input row as channel-planar RGB bytes at the backbone's size, for every supported column type, with
/// errors that name the column, the row and what was expected.
/// </summary>
internal sealed class ImageInput
{
    private readonly string column;
    private readonly string component;
    private readonly int size;
    private readonly int pixelHeight, pixelWidth;
    private readonly ImageResizingEstimator.ResizingKind resizing;

    private ImageInput(ImageInputKind kind, string column, int size, int pixelHeight, int pixelWidth, string component, ImageResizingEstimator.ResizingKind resizing)
    {
        this.resizing = resizing;
        Kind = kind;
        this.column = column;
        this.size = size;
        this.pixelHeight = pixelHeight;
        this.pixelWidth = pixelWidth;
        this.component = component;
    }

    public ImageInputKind Kind { get; }

    /// <summary>Classifies a column type; null when it is not a supported image input.</summary>
    public static ImageInputKind? KindOf(DataViewType type) => type switch
    {
        ImageDataViewType => ImageInputKind.Image,
        VectorDataViewType { ItemType: var item } when item == NumberDataViewType.Byte => ImageInputKind.EncodedBytes,
        VectorDataViewType { ItemType: var item, IsKnownSize: true } vector when item == NumberDataViewType.Single && vector.Size % 3 == 0 => ImageInputKind.PixelVector,
        _ => null,
    };

    /// <summary>The reader for a column of <paramref name="schema"/>; throws naming the column when it cannot be read.</summary>
    public static ImageInput For(DataViewSchema schema, string name, int size, int pixelHeight, int pixelWidth, string component,
        ImageResizingEstimator.ResizingKind resizing = ImageResizingEstimator.ResizingKind.Fill)
    {
        var column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema),
                $"{component}: input column '{name}' was not found. The input has: {string.Join(", ", schema.Select(c => $"'{c.Name}'"))}.");
        var kind = KindOf(column.Type) ?? throw new ArgumentOutOfRangeException(nameof(schema), Expected(component, name, column.Type.ToString() ?? column.Type.GetType().Name));
        if (kind == ImageInputKind.PixelVector)
        {
            int length = ((VectorDataViewType)column.Type).Size;
            (pixelHeight, pixelWidth) = ResolvePixelShape(length, pixelHeight, pixelWidth, component, name);
        }
        return new ImageInput(kind, name, size, pixelHeight, pixelWidth, component, resizing);
    }

    /// <summary>The message for a column of the wrong type.</summary>
    public static string Expected(string component, string name, string found) =>
        $"{component}: input column '{name}' has type {found}, but an image column was expected: an image (ImageDataViewType, " +
        "values of type MLImage, e.g. from mlContext.Transforms.LoadImages), encoded image bytes (vector of Byte), or " +
        "ExtractPixels output (known-size vector of Single, planar RGB).";

    /// <summary>The bytes one picture takes at the backbone's size: planar RGB, 3·size·size.</summary>
    public int PlanesLength => 3 * size * size;

    /// <summary>
    /// A reader of the current row of <paramref name="row"/> that writes its picture as planar RGB bytes of size×size
    /// into a destination of <see cref="PlanesLength"/> bytes (a batch's slot): an ML.NET image already at that size is
    /// written there directly, without an intermediate array.
    /// </summary>
    public Action<Span<byte>> Reader(DataViewRow row)
    {
        if (Kind == ImageInputKind.Image)
        {
            var get = row.GetGetter<MLImage>(row.Schema[column]);
            MLImage image = null!;
            return destination =>
            {
                get(ref image);
                var (height, width) = ImageColumn.CheckedSize(image, column, row.Position, component);
                if (height == size && width == size)
                {
                    ImageColumn.WritePlanes(image, destination, column, row.Position, component);
                    return;
                }
                var (planes, _, _) = ImageColumn.ToNativePlanes(image, column, row.Position, component);
                ImageColumn.ResizePlanes(planes, height, width, size, resizing).CopyTo(destination);
            };
        }
        var read = NativePlanesGetter(row, () => row.Position);
        return destination =>
        {
            var (planes, height, width) = read();
            ImageColumn.ResizePlanes(planes, height, width, size, resizing).CopyTo(destination);
        };
    }

    /// <summary>
    /// A getter for the current row of <paramref name="row"/> that returns the picture at its own size and aspect ratio,
    /// its shorter side shrunk to at most <paramref name="maxSide"/>; errors name the row by <paramref name="rowNumber"/>
    /// (default: the cursor's position).
    /// </summary>
    public Func<Training.DecodedPicture> NativeGetter(DataViewRow row, int maxSide, Func<long>? rowNumber = null)
    {
        var read = NativePlanesGetter(row, rowNumber ?? (() => row.Position));
        return () =>
        {
            var (planes, height, width) = read();
            return ImageColumn.Shrink(planes, height, width, maxSide);
        };
    }

    /// <summary>The current row's picture as planar RGB bytes at its own size, for every supported column type.</summary>
    private Func<(byte[] Planes, int Height, int Width)> NativePlanesGetter(DataViewRow row, Func<long> rowNumber)
    {
        var schemaColumn = row.Schema[column];
        switch (Kind)
        {
            case ImageInputKind.Image:
            {
                var get = row.GetGetter<MLImage>(schemaColumn);
                MLImage image = null!;
                return () =>
                {
                    get(ref image);
                    return ImageColumn.ToNativePlanes(image, column, rowNumber(), component);
                };
            }
            case ImageInputKind.EncodedBytes:
            {
                var get = row.GetGetter<VBuffer<byte>>(schemaColumn);
                var bytes = default(VBuffer<byte>);
                return () =>
                {
                    get(ref bytes);
                    var dense = bytes.DenseValues().ToArray();
                    if (dense.Length == 0)
                        throw new InvalidOperationException($"{component}: row {rowNumber()} of column '{column}' holds no bytes; expected an encoded image.");
                    using var image = ImageDecoder.Decode(dense, $"{component}: row {rowNumber()} of column '{column}'");
                    return ImageColumn.ToNativePlanes(image, column, rowNumber(), component);
                };
            }
            default:
            {
                var get = row.GetGetter<VBuffer<float>>(schemaColumn);
                var pixels = default(VBuffer<float>);
                return () =>
                {
                    get(ref pixels);
                    var dense = pixels.DenseValues().ToArray();
                    var planes = new byte[dense.Length];
                    for (int i = 0; i < dense.Length; i++) planes[i] = (byte)Math.Clamp(MathF.Round(dense[i]), 0f, 255f);
                    return (planes, pixelHeight, pixelWidth);
                };
            }
        }
    }

    private static (int Height, int Width) ResolvePixelShape(int length, int height, int width, string component, string name)
    {
        if (height > 0 && width > 0)
        {
            if (3 * height * width != length)
                throw new ArgumentOutOfRangeException(nameof(height),
                    $"{component}: column '{name}' has {length} values, but PixelHeight × PixelWidth × 3 = {3 * height * width}.");
            return (height, width);
        }
        int side = (int)Math.Round(Math.Sqrt(length / 3.0));
        if (3 * side * side != length)
            throw new ArgumentOutOfRangeException(nameof(height),
                $"{component}: column '{name}' has {length} values, which is not 3 × a square; set PixelHeight and PixelWidth.");
        return (side, side);
    }
}
