using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.Tests.Data;

public class ImageDatasetTests
{
    private string root = null!;

    [SetUp]
    public void CreateFolder()
    {
        root = Directory.CreateTempSubdirectory("sp-images-").FullName;
        var scenes = SpatialScenes.Generate(12, new SpatialScenesOptions { ImageSize = 32, ClassCount = 3 });
        foreach (var scene in scenes)
        {
            string folder = Path.Combine(root, "class " + SpatialScenes.ClassNames[scene.Label] + " é");
            Directory.CreateDirectory(folder);
            using var image = SpatialScenes.ToMLImage(scene);
            image.Save(Path.Combine(folder, $"scene {scene.Index}.png"));
        }
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(root, recursive: true);

    [Test]
    public void A_folder_of_class_subfolders_becomes_labelled_entries_and_a_data_view()
    {
        var dataset = ImageDataset.FromFolder(root);

        dataset.Entries.Should().HaveCount(12);
        dataset.ClassNames.Should().HaveCount(3).And.OnlyContain(n => n.StartsWith("class ") && n.EndsWith(" é"));
        var view = dataset.ToDataView(new MLContext(1));
        view.GetColumn<string>("Label").Should().Equal(dataset.Entries.Select(e => e.Label));
        using var cursor = view.GetRowCursor(view.Schema);
        var getter = cursor.GetGetter<MLImage>(view.Schema["Image"]);
        MLImage image = null!;
        cursor.MoveNext().Should().BeTrue();
        getter(ref image);
        image.Width.Should().Be(32);
    }

    [Test]
    public void Check_reports_every_unusable_file_by_path_and_keeps_the_rest()
    {
        string broken = Path.Combine(root, "class Circle é", "broken.png");
        File.WriteAllBytes(broken, new byte[] { 0x89, 0x50, 0x4E, 0x47, 1, 2, 3 });
        string empty = Path.Combine(root, "class Circle é", "empty.jpg");
        File.WriteAllBytes(empty, Array.Empty<byte>());

        var check = ImageDataset.FromFolder(root).Check();

        check.Readable.Entries.Should().HaveCount(12);
        check.Unreadable.Select(u => u.Path).Should().BeEquivalentTo(new[] { broken, empty });
        check.Unreadable.Should().OnlyContain(u => u.Reason.Contains(u.Path));
    }

    [Test]
    public void A_CSV_of_relative_paths_and_labels_loads_and_a_missing_file_is_named()
    {
        var lines = new List<string> { "path,label" };
        foreach (var dir in Directory.GetDirectories(root))
        foreach (var file in Directory.GetFiles(dir))
            lines.Add($"\"{Path.GetRelativePath(root, file)}\",{Path.GetFileName(dir).Split(' ')[1]}");
        lines.Add("missing/nothere.png,Circle");
        string csv = Path.Combine(root, "labels.csv");
        File.WriteAllLines(csv, lines);

        var dataset = ImageDataset.FromCsv(csv);
        var check = dataset.Check();

        dataset.Entries.Should().HaveCount(13);
        check.Unreadable.Should().ContainSingle().Which.Reason.Should().Contain("nothere.png").And.Contain("not found");
    }

    [Test]
    public void Malformed_CSV_lines_and_empty_folders_are_reported_with_where_and_what()
    {
        string csv = Path.Combine(root, "bad.csv");
        File.WriteAllLines(csv, new[] { "path,label", "a.png,x", "b.png" });
        string empty = Directory.CreateTempSubdirectory("sp-empty-").FullName;
        try
        {
            FluentActions.Invoking(() => ImageDataset.FromCsv(csv)).Should().Throw<InvalidDataException>().WithMessage("*bad.csv, line 3*two non-empty fields*");
            FluentActions.Invoking(() => ImageDataset.FromFolder(empty)).Should().Throw<InvalidDataException>().WithMessage("*no images in class sub-folders*");
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Test]
    public void Pretraining_reads_images_straight_from_files()
    {
        var mlContext = new MLContext(1);
        var data = ImageDataset.FromFolder(root).ToDataView(mlContext);

        var featurizer = mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions
        {
            ImageSize = 32, BackboneWidth = 4, Epochs = 1, BatchSize = 4, ValidationFraction = 0,
            SpatialPrediction = new SpatialPredictionOptions { LocalResolution = 16, HeadWidth = 16 },
        }).Fit(data);

        featurizer.Transform(data).GetColumn<float[]>("Features").Should().HaveCount(12).And.OnlyContain(f => f.Length == 32);
        featurizer.TrainingHistory!.Steps.Should().HaveCount(3);
    }

    [Test]
    public void Empty_class_folders_are_listed_and_not_counted_as_classes()
    {
        Directory.CreateDirectory(Path.Combine(root, "class Star é"));
        File.WriteAllText(Path.Combine(root, "class Star é", "notes.txt"), "not an image");

        var dataset = ImageDataset.FromFolder(root);

        dataset.EmptyClasses.Should().Equal("class Star é");
        dataset.ClassNames.Should().NotContain("class Star é");
    }
}
