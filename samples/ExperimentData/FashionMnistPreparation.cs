using System.IO.Compression;
using SkiaSharp;

namespace SpatialPrediction.ML.ExperimentData;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul, Vollgraf, 2017; MIT licence) from Debian's <c>dataset-fashion-mnist</c>: 28 px grayscale
/// product photographs in 10 classes, in the IDX files of the original release. A class-balanced subset is written as
/// PNGs with <c>fashion-train.csv</c> and <c>fashion-test.csv</c> (from the official test set).
/// </summary>
public static class FashionMnistPreparation
{
    /// <summary>The class names in label order, as folder-safe words.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = new[]
    {
        "tshirt-top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot",
    };

    private const string DataFolder = "usr/share/datasets/fashion-mnist";

    /// <summary>Fetches and unpacks the package (cached in <paramref name="cacheFolder"/>) and writes the subsets; returns the two CSVs.</summary>
    public static (string Train, string Test) Prepare(string cacheFolder, string outputFolder, int trainPerClass = 200, int testPerClass = 100)
        => PrepareFromFolder(Path.Combine(DebianPackage.Unpacked("dataset-fashion-mnist", DataFolder, cacheFolder), DataFolder),
            outputFolder, trainPerClass, testPerClass);

    /// <summary>Writes the subsets from a folder holding the four <c>*-idx*-ubyte.gz</c> files.</summary>
    public static (string Train, string Test) PrepareFromFolder(string idxFolder, string outputFolder, int trainPerClass = 200, int testPerClass = 100)
    {
        string root = Path.Combine(outputFolder, "fashion");
        return (Write(idxFolder, "train", root, "fashion-train.csv", trainPerClass),
                Write(idxFolder, "t10k", root, "fashion-test.csv", testPerClass));
    }

    private static string Write(string idxFolder, string prefix, string root, string csvName, int perClass)
    {
        var images = ReadImages(Path.Combine(idxFolder, $"{prefix}-images-idx3-ubyte.gz"));
        var labels = ReadLabels(Path.Combine(idxFolder, $"{prefix}-labels-idx1-ubyte.gz"));
        if (images.Count != labels.Length)
            throw new InvalidDataException($"{idxFolder}: {images.Count} {prefix} images but {labels.Length} labels.");
        var taken = new int[ClassNames.Count];
        var lines = new List<string> { "path,label" };
        string split = prefix == "t10k" ? "test" : "train";
        for (int i = 0; i < images.Count; i++)
        {
            int label = labels[i];
            if (label >= ClassNames.Count) throw new InvalidDataException($"{idxFolder}: {prefix} label {label} at row {i} is not one of the 10 classes.");
            if (taken[label]++ >= perClass) continue;
            string relative = $"{split}/{ClassNames[label]}/{i:D5}.png";
            string path = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, Png(images[i].Pixels, images[i].Side));
            lines.Add($"{relative},{ClassNames[label]}");
        }
        string csv = Path.Combine(root, csvName);
        File.WriteAllLines(csv, lines);
        return csv;
    }

    /// <summary>The images of an IDX3 file (magic 0x00000803, count, rows, columns, then one byte a pixel), gzipped.</summary>
    internal static IReadOnlyList<(byte[] Pixels, int Side)> ReadImages(string path)
    {
        using var reader = Open(path);
        Expect(reader, 0x00000803, path);
        int count = BigEndian(reader), rows = BigEndian(reader), columns = BigEndian(reader);
        if (rows != columns || rows <= 0) throw new InvalidDataException($"{path}: images of {rows}×{columns} px; square images were expected.");
        var images = new List<(byte[], int)>(count);
        for (int i = 0; i < count; i++)
        {
            var pixels = reader.ReadBytes(rows * columns);
            if (pixels.Length != rows * columns) throw new InvalidDataException($"{path}: ends inside image {i} of {count}.");
            images.Add((pixels, rows));
        }
        return images;
    }

    /// <summary>The labels of an IDX1 file (magic 0x00000801, count, then one byte a label), gzipped.</summary>
    internal static byte[] ReadLabels(string path)
    {
        using var reader = Open(path);
        Expect(reader, 0x00000801, path);
        int count = BigEndian(reader);
        var labels = reader.ReadBytes(count);
        return labels.Length == count ? labels : throw new InvalidDataException($"{path}: {labels.Length} labels where the header says {count}.");
    }

    private static BinaryReader Open(string path)
        => File.Exists(path)
            ? new BinaryReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress))
            : throw new FileNotFoundException($"{path} not found: is this an unpacked dataset-fashion-mnist package?", path);

    private static void Expect(BinaryReader reader, int magic, string path)
    {
        int found = BigEndian(reader);
        if (found != magic) throw new InvalidDataException($"{path}: IDX magic number 0x{found:X8}, expected 0x{magic:X8}.");
    }

    private static int BigEndian(BinaryReader reader)
    {
        var bytes = reader.ReadBytes(4);
        if (bytes.Length != 4) throw new InvalidDataException("The IDX header ends early.");
        return System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes);
    }

    private static byte[] Png(byte[] gray, int side)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++)
        {
            byte v = gray[y * side + x];
            bitmap.SetPixel(x, y, new SKColor(v, v, v));
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
