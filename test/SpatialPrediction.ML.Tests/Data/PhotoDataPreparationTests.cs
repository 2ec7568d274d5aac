using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.Tests.Data;

public class PhotoDataPreparationTests
{
    [Test]
    public void Copies_only_the_photographs_out_of_an_unpacked_package_with_a_csv_and_attribution()
    {
        string folder = Directory.CreateTempSubdirectory("sp-photos-").FullName;
        try
        {
            string data = Path.Combine(folder, "package", "usr/lib/python3/dist-packages/skimage/data");
            Directory.CreateDirectory(data);
            foreach (var name in new[] { "astronaut.png", "coffee.png", "truncated.jpg", "palette_color.png" }) File.WriteAllBytes(Path.Combine(data, name), new byte[] { 1 });
            File.WriteAllText(Path.Combine(data, "README.txt"), "astronaut: NASA, public domain");

            string csv = PhotoDataPreparation.PrepareFromExtracted(Path.Combine(folder, "package"), Path.Combine(folder, "out"));

            File.ReadAllLines(csv).Should().Equal("path,label", "photos/astronaut.png,astronaut", "photos/coffee.png,coffee");
            Directory.GetFiles(Path.Combine(folder, "out", "photos")).Select(Path.GetFileName).Should().BeEquivalentTo("astronaut.png", "coffee.png");
            File.ReadAllText(Path.Combine(folder, "out", "ATTRIBUTION-photos.md")).Should().Contain("NASA, public domain");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void A_folder_that_is_not_the_package_is_named_in_the_error()
    {
        FluentActions.Invoking(() => PhotoDataPreparation.PrepareFromExtracted("/nonexistent/package", "/tmp/out"))
            .Should().Throw<DirectoryNotFoundException>().WithMessage("*/nonexistent/package*python3-skimage*");
    }
}
