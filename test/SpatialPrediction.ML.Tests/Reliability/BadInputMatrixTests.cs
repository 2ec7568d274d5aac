using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Evaluation;

namespace SpatialPrediction.ML.Tests.Reliability;

/// <summary>
/// Every bad input a user's folder can hold, each decoded (or trained on) for real; the outcome of each case is also
/// written to <c>reliability-matrix.md</c> in the test output folder, the table docs/usage.md shows.
/// </summary>
[NonParallelizable, System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class BadInputMatrixTests
{
    private static readonly ConcurrentDictionary<string, string> Outcomes = new();
    private string folder = null!;

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("sp-bad-inputs-").FullName;

    [TearDown]
    public void DeleteFolder()
    {
        foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories)) File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Directory.Delete(folder, recursive: true);
    }

    [OneTimeTearDown]
    public void WriteTable()
    {
        var lines = new List<string> { "| case | outcome |", "|---|---|" };
        lines.AddRange(Outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"| {o.Key} | {o.Value.Replace("|", "\\|")} |"));
        File.WriteAllLines(Path.Combine(TestContext.CurrentContext.WorkDirectory, "reliability-matrix.md"), lines);
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Records an error outcome (message with the temporary folder shortened) and returns the message.</summary>
    private string Fails(string @case, string path, string expected)
    {
        var decode = () => ImageDecoder.DecodeFile(path);
        string message = decode.Should().Throw<InvalidDataException>().Which.Message;
        message.Should().StartWith(path).And.Contain(expected);
        Outcomes[@case] = "error: " + message.Replace(folder, "…");
        return message;
    }

    private static SKColor Pixel(MLImage image, int x, int y)
    {
        var p = image.Pixels.Slice((y * image.Width + x) * 4, 4);
        return new SKColor(p[0], p[1], p[2], p[3]);
    }

    private static readonly SKColor Teal = new(20, 160, 150);

    [Test]
    public void Truncated_png_and_jpeg_are_errors_not_half_grey_pictures()
    {
        var png = ImageFiles.Encode(64, 64, (x, y) => new SKColor((byte)(x * 4), (byte)(y * 4), 99));
        var jpeg = ImageFiles.Encode(64, 64, (x, y) => new SKColor((byte)(x * 4), (byte)(y * 4), 99), SKEncodedImageFormat.Jpeg);

        Fails("truncated PNG", Write("cut.png", png[..(png.Length / 2)]), "truncated");
        Fails("truncated JPEG", Write("cut.jpg", jpeg[..(jpeg.Length / 2)]), "truncated");
    }

    [Test]
    public void Empty_and_foreign_files_are_named_with_what_was_expected()
    {
        Fails("0-byte file", Write("empty.png", Array.Empty<byte>()), "empty (0 bytes)");
        Fails("not an image, image extension", Write("notes.jpg", "name,label\ncat,1\n"u8.ToArray()), "not a readable image");
    }

    [Test]
    public void Grayscale_palette_and_16_bit_pngs_decode_to_the_right_rgb()
    {
        var gray = Write("gray.png", ImageFiles.Png(2, 1, 0, 8, new[] { new byte[] { 40, 200 } }));
        var palette = Write("palette.png", ImageFiles.Png(2, 1, 3, 8, new[] { new byte[] { 1, 0 } }, new byte[] { 255, 0, 0, 0, 0, 255 }));
        var deep = Write("rgb16.png", ImageFiles.Png(1, 1, 2, 16, new[] { new byte[] { 0x12, 0x34, 0xAB, 0xCD, 0xFF, 0x00 } }));

        using (var image = ImageDecoder.DecodeFile(gray)) Pixel(image, 1, 0).Should().Be(new SKColor(200, 200, 200));
        using (var image = ImageDecoder.DecodeFile(palette))
        {
            Pixel(image, 0, 0).Should().Be(new SKColor(0, 0, 255));
            Pixel(image, 1, 0).Should().Be(new SKColor(255, 0, 0));
        }
        using (var image = ImageDecoder.DecodeFile(deep)) Pixel(image, 0, 0).Should().Be(new SKColor(0x12, 0xAB, 0xFF));
        Outcomes["grayscale PNG"] = "decoded: gray value copied to R, G, B";
        Outcomes["palette PNG"] = "decoded: palette colours";
        Outcomes["16-bit PNG"] = "decoded: reduced to 8 bits per channel (high byte)";
    }

    [Test]
    public void A_cmyk_jpeg_decodes_to_rgb()
    {
        var path = Write("cmyk.jpg", ImageFiles.CmykJpeg());

        using var image = ImageDecoder.DecodeFile(path);

        image.Width.Should().Be(8);
        var first = Pixel(image, 0, 0);
        Enumerable.Range(0, 64).Select(i => Pixel(image, i % 8, i / 8)).Should().OnlyContain(p => p == first, "the file is flat");
        first.Alpha.Should().Be(255);
        Outcomes["CMYK JPEG"] = $"decoded: converted to RGB (flat mid-level CMYK → {first.Red},{first.Green},{first.Blue})";
    }

    [Test]
    public void Exif_orientation_of_camera_jpegs_is_applied()
    {
        // Stored 32 wide × 16 tall with a red left half; orientation 6 = turn 90° clockwise to view: 16 wide × 32 tall, red on top.
        var stored = ImageFiles.Encode(32, 16, (x, _) => x < 16 ? SKColors.Red : SKColors.Blue, SKEncodedImageFormat.Jpeg);
        var path = Write("camera.jpg", ImageFiles.WithExifOrientation(stored, 6));

        using var image = ImageDecoder.DecodeFile(path);

        (image.Width, image.Height).Should().Be((16, 32));
        Pixel(image, 8, 4).Red.Should().BeGreaterThan(200);
        Pixel(image, 8, 28).Blue.Should().BeGreaterThan(200);
        Outcomes["EXIF-rotated JPEG"] = "decoded upright: orientation tag applied (32×16 stored, tag 6 → 16×32)";
    }

    [Test]
    public void An_animated_gif_gives_its_first_frame()
    {
        var path = Write("anim.gif", ImageFiles.AnimatedGif(6, Teal, SKColors.Orange));

        using var image = ImageDecoder.DecodeFile(path);

        Pixel(image, 3, 3).Should().Be(Teal);
        Outcomes["animated GIF"] = "decoded: first frame";
    }

    [Test]
    public void A_one_pixel_image_decodes_and_featurises_to_finite_values()
    {
        var path = Write("dot.png", ImageFiles.Encode(1, 1, (_, _) => Teal));
        var mlContext = new MLContext(1);
        var data = new ImageDataset(new[] { new ImageEntry(path, "a") }).ToDataView(mlContext);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));

        var features = mlContext.Transforms.SpatialFeaturize(backbone).Fit(data).Transform(data)
            .GetColumn<float[]>("Features").Single();

        features.Should().OnlyContain(v => float.IsFinite(v));
        Outcomes["1×1 image"] = "decoded and featurised (upsampled to the backbone's size)";
    }

    [Test]
    public void A_huge_image_header_is_refused_before_pixel_memory_is_allocated()
    {
        var path = Write("huge.png", ImageFiles.PngHeaderOnly(20000, 20000));
        long before = Process.GetCurrentProcess().PeakWorkingSet64;

        Fails("huge image (20000×20000 header)", path, "more than the");

        long grown = Process.GetCurrentProcess().PeakWorkingSet64 - before;
        grown.Should().BeLessThan(200L << 20, "decoding 20000² RGBA would need 1.6 GB");
    }

    [Test]
    public void Missing_files_folders_and_unreadable_files_are_named()
    {
        Fails("missing file", Path.Combine(folder, "gone.png"), "file not found");
        Directory.CreateDirectory(Path.Combine(folder, "dir.png"));
        Fails("a folder named like an image", Path.Combine(folder, "dir.png"), "is a folder");

        var locked = Write("locked.png", ImageFiles.Encode(4, 4, (_, _) => Teal));
        File.SetUnixFileMode(locked, UnixFileMode.None);
        bool readable;
        try
        {
            using (File.OpenRead(locked)) readable = true; // root reads through permissions
        }
        catch (UnauthorizedAccessException)
        {
            readable = false;
        }
        if (readable)
        {
            using var image = ImageDecoder.DecodeFile(locked);
            image.Width.Should().Be(4);
            Outcomes["unreadable file (mode 000)"] = "this run's user can read it anyway (root); as another user: error 'cannot be read (UnauthorizedAccessException …)'";
        }
        else
        {
            Fails("unreadable file (mode 000)", locked, "cannot be read");
        }
    }

    [Test]
    public void Non_ascii_and_space_containing_paths_load_from_folders_and_csv()
    {
        Write(Path.Combine("café au lait", "naïve 猫 1.png"), ImageFiles.Encode(8, 8, (_, _) => Teal));
        Write(Path.Combine("café au lait", "naïve 猫 2.png"), ImageFiles.Encode(8, 8, (_, _) => Teal));
        File.WriteAllText(Path.Combine(folder, "list.csv"), "path,label\n\"café au lait/naïve 猫 1.png\",\"tasse, pleine\"\n");

        var fromFolder = ImageDataset.FromFolder(folder);
        var fromCsv = ImageDataset.FromCsv(Path.Combine(folder, "list.csv"));

        fromFolder.Check().Unreadable.Should().BeEmpty();
        fromFolder.ClassNames.Should().Equal("café au lait");
        fromCsv.Entries.Single().Label.Should().Be("tasse, pleine");
        using (var image = ImageDataset.Decode(fromCsv.Entries.Single().Path)) Pixel(image, 0, 0).Should().Be(Teal);
        Outcomes["non-ASCII and space-containing paths"] = "loaded (folder and quoted CSV fields)";
    }

    [Test]
    public void Empty_datasets_and_datasets_of_one_image_are_refused_with_the_reason()
    {
        var mlContext = new MLContext(1);
        Directory.CreateDirectory(Path.Combine(folder, "empty", "cats"));
        var options = new SpatialPretrainOptions { Epochs = 1, BatchSize = 4, BackboneWidth = 4, ValidationFraction = 0 };

        var emptyFolder = () => ImageDataset.FromFolder(Path.Combine(folder, "empty"));
        var emptyView = () => mlContext.Transforms.SpatialPretrain(options).Fit(SpatialScenes.GenerateDataView(mlContext, 0));
        var oneImage = () => mlContext.Transforms.SpatialPretrain(options).Fit(SpatialScenes.GenerateDataView(mlContext, 1));

        Outcomes["empty dataset (folder)"] = "error: " + emptyFolder.Should().Throw<InvalidDataException>().WithMessage("*has no images in class sub-folders*").Which.Message.Replace(folder, "…");
        Outcomes["empty dataset (IDataView)"] = "error: " + emptyView.Should().Throw<ArgumentException>().WithMessage("*no rows*").Which.Message;
        Outcomes["dataset of 1 image"] = "error: " + oneImage.Should().Throw<ArgumentException>().WithMessage("*at least 2*").Which.Message;
    }

    [Test]
    public void A_dataset_smaller_than_one_batch_trains_on_one_smaller_batch()
    {
        var mlContext = new MLContext(1);
        var options = new SpatialPretrainOptions { Epochs = 2, BatchSize = 64, BackboneWidth = 4, ValidationFraction = 0 };

        var featurizer = mlContext.Transforms.SpatialPretrain(options).Fit(SpatialScenes.GenerateDataView(mlContext, 5));

        featurizer.TrainingHistory!.Steps.Should().HaveCount(2, "one step per epoch with the batch cut to the 5 images");
        featurizer.TrainingHistory!.Steps.Should().OnlyContain(s => float.IsFinite(s.TotalLoss));
        featurizer.Backbone.Dispose();
        Outcomes["dataset smaller than one batch"] = "trains: the batch is cut to the dataset (5 images, BatchSize 64 → 1 step per epoch)";
    }

    [Test]
    public void A_label_column_with_one_class_is_refused_by_the_probe_with_the_count()
    {
        var features = Enumerable.Range(0, 6).Select(i => new[] { (float)i, 1f }).ToList();
        var labels = Enumerable.Repeat(0, 6).ToList();

        var probe = () => SpatialEvaluation.LinearProbe(new MLContext(1), features, labels, features, labels);

        Outcomes["label column with one class"] = "error: " + probe.Should().Throw<ArgumentException>().WithMessage("*at least 2 classes*").Which.Message;
    }

    [Test]
    public void Skipping_unreadable_rows_trains_on_the_rest_and_lists_each_skipped_file()
    {
        var mlContext = new MLContext(1);
        var entries = new List<ImageEntry>();
        for (int i = 0; i < 6; i++) entries.Add(new ImageEntry(Write($"ok{i}.png", ImageFiles.Encode(32, 32, (x, y) => new SKColor((byte)(x * 8), (byte)(i * 40), (byte)(y * 8)))), "a"));
        entries.Insert(2, new ImageEntry(Write("bad.png", "oops"u8.ToArray()), "a"));
        entries.Add(new ImageEntry(Path.Combine(folder, "missing.png"), "a"));
        var data = new ImageDataset(entries).ToDataView(mlContext);
        var options = new SpatialPretrainOptions { Epochs = 1, BatchSize = 4, BackboneWidth = 4, ValidationFraction = 0 };

        var strict = () => mlContext.Transforms.SpatialPretrain(options).Fit(data);
        strict.Should().Throw<InvalidDataException>().WithMessage("*bad.png*not a readable image*");

        options.SkipUnreadableImages = true;
        var featurizer = mlContext.Transforms.SpatialPretrain(options).Fit(data);

        featurizer.TrainingHistory!.TrainingImages.Should().Be(6);
        featurizer.TrainingHistory!.SkippedRows.Should().HaveCount(2);
        featurizer.TrainingHistory!.SkippedRows[0].Should().StartWith("row 2:").And.Contain("bad.png");
        featurizer.TrainingHistory!.SkippedRows[1].Should().StartWith("row 7:").And.Contain("missing.png").And.Contain("file not found");
        featurizer.Backbone.Dispose();
        Outcomes["skip bad rows (SkipUnreadableImages)"] = "trains on the 6 readable rows; History.SkippedRows lists \"row 2: …bad.png: not a readable image …\" and \"row 7: …missing.png: file not found.\"";
    }
}
