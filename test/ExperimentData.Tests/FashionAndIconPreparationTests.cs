using System.IO.Compression;
using SpatialPrediction.ML.ExperimentData;

namespace SpatialPrediction.ML.ExperimentData.Tests;

public class FashionAndIconPreparationTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-fashion-icons-";

    private static void WriteGzip(string path, byte[] bytes)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(bytes);
    }

    private static byte[] BigEndian(params int[] values)
        => values.SelectMany(v => new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v }).ToArray();

    /// <summary>IDX files of <paramref name="labels"/>.Length images of 2×2 px whose pixels all equal 10 × their row.</summary>
    private static void WriteIdx(string folder, string prefix, byte[] labels)
    {
        var pixels = labels.SelectMany((_, i) => Enumerable.Repeat((byte)(10 * i), 4)).ToArray();
        WriteGzip(Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz"), BigEndian(0x803, labels.Length, 2, 2).Concat(pixels).ToArray());
        WriteGzip(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz"), BigEndian(0x801, labels.Length).Concat(labels).ToArray());
    }

    [Test]
    public void Fashion_MNIST_idx_files_become_class_balanced_PNGs_with_a_csv_per_split()
    {
        string idx = Path.Combine(Folder, "idx");
        Directory.CreateDirectory(idx);
        WriteIdx(idx, "train", new byte[] { 0, 9, 0, 0, 9 });
        WriteIdx(idx, "t10k", new byte[] { 3, 3 });

        var (train, test) = FashionMnistPreparation.PrepareFromFolder(idx, Path.Combine(Folder, "out"), trainPerClass: 2, testPerClass: 1);

        File.ReadAllLines(train).Should().Equal("path,label", "train/tshirt-top/00000.png,tshirt-top", "train/ankle-boot/00001.png,ankle-boot",
            "train/tshirt-top/00002.png,tshirt-top", "train/ankle-boot/00004.png,ankle-boot");
        File.ReadAllLines(test).Should().Equal("path,label", "test/dress/00000.png,dress");
        using var image = SkiaSharp.SKBitmap.Decode(Path.Combine(Folder, "out", "fashion", "train", "ankle-boot", "00004.png"));
        image.Width.Should().Be(2);
        image.GetPixel(1, 1).Should().Be(new SkiaSharp.SKColor(40, 40, 40), "the fifth image's gray level, as RGB");
    }

    [Test]
    public void A_damaged_idx_file_is_named_with_what_was_wrong()
    {
        string idx = Path.Combine(Folder, "idx");
        Directory.CreateDirectory(idx);
        WriteGzip(Path.Combine(idx, "train-images-idx3-ubyte.gz"), BigEndian(0x801, 1, 2, 2));
        FluentActions.Invoking(() => FashionMnistPreparation.ReadImages(Path.Combine(idx, "train-images-idx3-ubyte.gz")))
            .Should().Throw<InvalidDataException>().WithMessage("*train-images-idx3-ubyte.gz*magic number 0x00000801, expected 0x00000803*");
        FluentActions.Invoking(() => FashionMnistPreparation.PrepareFromFolder(Path.Combine(Folder, "nowhere"), Folder))
            .Should().Throw<FileNotFoundException>().WithMessage("*dataset-fashion-mnist*");
    }

    private const string Square = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\"><rect x=\"2\" y=\"2\" width=\"12\" height=\"12\" fill=\"#e33\"/></svg>";

    [Test]
    public void Icons_are_classed_by_theme_folder_without_aliases_and_their_16_px_drawings_form_the_shift()
    {
        string theme = Path.Combine(Folder, "Papirus");
        var names = Enumerable.Range(0, 10).Select(i => $"icon{i}").ToList();
        foreach (var (context, size) in new[] { ("apps", "64x64"), ("places", "64x64"), ("apps", "16x16") })
        {
            string folder = Path.Combine(theme, size, context);
            Directory.CreateDirectory(folder);
            foreach (var name in size == "16x16" ? names.Take(3) : names) File.WriteAllText(Path.Combine(folder, $"{context}-{name}.svg".Replace("apps-", "")), Square);
        }
        File.CreateSymbolicLink(Path.Combine(theme, "64x64", "apps", "alias.svg"), Path.Combine(theme, "64x64", "apps", "icon0.svg"));

        var csvs = IconThemePreparation.PrepareFromTheme(theme, Path.Combine(Folder, "out"), perClass: 8, side: 32);

        string root = Path.Combine(Folder, "out", "icons");
        var train = File.ReadAllLines(Path.Combine(root, "icons-train.csv")).Skip(1).ToList();
        var test = File.ReadAllLines(Path.Combine(root, "icons-test.csv")).Skip(1).ToList();
        train.Concat(test).Should().HaveCount(16, "8 drawings a class, the alias left out").And.NotContain(l => l.Contains("alias"));
        train.Concat(test).Count(l => l.EndsWith(",places")).Should().Be(8);
        test.Should().OnlyContain(l => PreparedSet.IsTest(Path.GetFileNameWithoutExtension(l.Split(',')[0])));
        var shift = File.ReadAllLines(Path.Combine(root, "icons-shift-small-train.csv")).Skip(1)
            .Concat(File.ReadAllLines(Path.Combine(root, "icons-shift-small-test.csv")).Skip(1)).ToList();
        shift.Should().OnlyContain(l => l.StartsWith("16/apps/") && l.EndsWith(",apps"));
        shift.Select(l => l.Split(',')[0][3..]).Should().BeSubsetOf(train.Concat(test).Select(l => l.Split(',')[0][3..]), "the shift draws icons of the set");
        csvs.Should().HaveCount(4);
        using var image = SkiaSharp.SKBitmap.Decode(Path.Combine(root, train[0].Split(',')[0]));
        image.Width.Should().Be(32);
    }
}
