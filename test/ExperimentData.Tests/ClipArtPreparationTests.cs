using SpatialPrediction.ML.ExperimentData;

namespace SpatialPrediction.ML.ExperimentData.Tests;

public class ClipArtPreparationTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-clipart-";

    private const string Square = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\"><rect x=\"2\" y=\"2\" width=\"12\" height=\"12\" fill=\"#3a3\"/></svg>";

    [Test]
    public void Drawings_are_classed_by_top_folder_capped_per_class_and_split_by_name()
    {
        string library = Path.Combine(Folder, "svg");
        foreach (var (folder, count) in new[] { ("animals", 6), ("animals/birds", 6), ("food", 3), ("shapes", 5) })
        {
            Directory.CreateDirectory(Path.Combine(library, folder));
            for (int i = 0; i < count; i++) File.WriteAllText(Path.Combine(library, folder, $"{folder.Replace('/', '-')}{i}.svg"), Square);
        }
        File.WriteAllText(Path.Combine(library, "food", "broken.svg"), "<svg");
        File.WriteAllText(Path.Combine(library, "animals", "birds", "animals0.svg"), Square); // a name repeated in a subfolder

        var csvs = ClipArtPreparation.PrepareFromLibrary(library, Path.Combine(Folder, "out"), perClass: 10, side: 24);
        var again = ClipArtPreparation.PrepareFromLibrary(library, Path.Combine(Folder, "out"), perClass: 10, side: 24);

        string root = Path.Combine(Folder, "out", "clipart");
        var rows = csvs.SelectMany(c => File.ReadAllLines(c).Skip(1)).ToList();
        rows.Count(r => r.EndsWith(",animals")).Should().Be(10, "12 animal drawings (one name twice), capped at 10");
        rows.Count(r => r.EndsWith(",food")).Should().Be(3, "the broken drawing is passed over");
        rows.Should().NotContain(r => r.Contains("shapes"), "abstract folders are not classes");
        rows.Should().OnlyHaveUniqueItems();
        File.ReadAllLines(Path.Combine(root, "clipart-test.csv")).Skip(1)
            .Should().OnlyContain(r => PreparedSet.IsTest(Path.GetFileNameWithoutExtension(r.Split(',')[0])));
        again.SelectMany(c => File.ReadAllLines(c).Skip(1)).Should().Equal(rows, "preparing again writes the same rows");
        using var image = SkiaSharp.SKBitmap.Decode(Path.Combine(root, rows[0].Split(',')[0]));
        image.Width.Should().Be(24);
    }

    [Test]
    public void A_folder_without_the_classes_is_named()
        => FluentActions.Invoking(() => ClipArtPreparation.PrepareFromLibrary(Folder, Path.Combine(Folder, "out")))
            .Should().Throw<DirectoryNotFoundException>().WithMessage("*openclipart-svg*");
}
