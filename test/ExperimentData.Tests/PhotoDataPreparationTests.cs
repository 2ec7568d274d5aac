using SpatialPrediction.ML.ExperimentData;

namespace SpatialPrediction.ML.ExperimentData.Tests;

public class PhotoDataPreparationTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-photos-";

    [Test]
    public void Copies_only_the_photographs_out_of_an_unpacked_package_with_a_csv_and_attribution()
    {
        string folder = Folder;
        string data = Path.Combine(folder, "package", "usr/lib/python3/dist-packages/skimage/data");
        Directory.CreateDirectory(data);
        foreach (var name in new[] { "astronaut.png", "coffee.png", "truncated.jpg", "palette_color.png" }) File.WriteAllBytes(Path.Combine(data, name), new byte[] { 1 });
        File.WriteAllText(Path.Combine(data, "README.txt"), "astronaut: NASA, public domain");

        string csv = PhotoDataPreparation.PrepareFromExtracted(Path.Combine(folder, "package"), Path.Combine(folder, "out"));

        File.ReadAllLines(csv).Should().Equal("path,label", "photos/astronaut.png,astronaut", "photos/coffee.png,coffee");
        Directory.GetFiles(Path.Combine(folder, "out", "photos")).Select(Path.GetFileName).Should().BeEquivalentTo("astronaut.png", "coffee.png");
        File.ReadAllText(Path.Combine(folder, "out", "ATTRIBUTION-photos.md")).Should().Contain("NASA, public domain");
    }

    [Test]
    public void A_folder_that_is_not_the_package_is_named_in_the_error()
    {
        FluentActions.Invoking(() => PhotoDataPreparation.PrepareFromExtracted("/nonexistent/package", "/tmp/out"))
            .Should().Throw<DirectoryNotFoundException>().WithMessage("*/nonexistent/package*python3-skimage*");
    }

    [Test]
    public void Wallpaper_photographs_are_added_smallest_size_first_with_their_authors_and_licences()
    {
        string folder = Folder;
        string data = Path.Combine(folder, "skimage", "usr/lib/python3/dist-packages/skimage/data");
        Directory.CreateDirectory(data);
        File.WriteAllBytes(Path.Combine(data, "coffee.png"), new byte[] { 1 });
        string wallpapers = Path.Combine(folder, "kde", "usr/share/wallpapers");
        foreach (var name in new[] { "Path", "Autumn" }) // Autumn is a painting: not on the list
        {
            string images = Path.Combine(wallpapers, name, "contents", "images");
            Directory.CreateDirectory(images);
            File.WriteAllBytes(Path.Combine(images, "1920x1080.jpg"), new byte[] { 2 });
            File.WriteAllBytes(Path.Combine(images, "640x480.jpg"), new byte[] { 3 });
            File.WriteAllText(Path.Combine(wallpapers, name, "metadata.json"),
                "{\"KPlugin\": {\"Authors\": [{\"Name\": \"Risto S\"}], \"License\": \"LGPLv3\", \"Name\": \"" + name + "\"}}");
        }

        string csv = PhotoDataPreparation.PrepareFromExtracted(Path.Combine(folder, "skimage"), Path.Combine(folder, "out"), Path.Combine(folder, "kde"));

        File.ReadAllLines(csv).Should().Equal("path,label", "photos/coffee.png,coffee", "photos/kde-Path.jpg,Path");
        File.ReadAllBytes(Path.Combine(folder, "out", "photos", "kde-Path.jpg")).Should().Equal(new byte[] { 3 });
        File.ReadAllText(Path.Combine(folder, "out", "ATTRIBUTION-photos.md")).Should().Contain("- Path: Risto S; licence LGPLv3");
    }
}
