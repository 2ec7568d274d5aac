using System.IO.Compression;
using Microsoft.ML;
using SpatialPrediction.ML.Backbones;

namespace SpatialPrediction.ML.Tests.Reliability;

/// <summary>A model zip that is still a valid zip but whose backbone entry was damaged is refused with the reason.</summary>
public class DamagedModelZipTests
{
    /// <summary>Saves a featuriser over <paramref name="backbone"/> as an ML.NET model zip.</summary>
    private static void SaveFeaturizer(MLContext mlContext, SpatialBackbone backbone, Stream zip)
    {
        var data = TestScenes.DataView(mlContext, 2);
        mlContext.Model.Save(mlContext.Transforms.SpatialFeaturize(backbone).Fit(data), data.Schema, zip);
    }

    [Test]
    public void A_flipped_byte_in_the_backbone_entry_of_a_model_zip_is_reported_as_a_checksum_mismatch_by_LoadWithReason()
    {
        var mlContext = new MLContext(1);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        using var zip = new MemoryStream();
        SaveFeaturizer(mlContext, backbone, zip);
        var damaged = new MemoryStream();
        zip.Position = 0;
        zip.CopyTo(damaged);
        string entryName;
        using (var archive = new ZipArchive(damaged, ZipArchiveMode.Update, leaveOpen: true))
        {
            var entry = archive.Entries.Single(e => e.FullName.Contains("Backbone", StringComparison.OrdinalIgnoreCase));
            entryName = entry.FullName;
            byte[] bytes;
            using (var stream = entry.Open())
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                bytes = copy.ToArray();
            }
            bytes[^100] ^= 0x40; // inside the weights
            entry.Delete();
            using var replaced = archive.CreateEntry(entryName).Open();
            replaced.Write(bytes);
        }
        string path = Path.Combine(Path.GetTempPath(), $"sp-damaged-{Guid.NewGuid():N}.zip");
        File.WriteAllBytes(path, damaged.ToArray());
        try
        {
            var plain = () => mlContext.Model.Load(path, out _);
            var explained = () => mlContext.Model.LoadWithReason(path, out _);

            plain.Should().Throw<System.Reflection.TargetInvocationException>("ML.NET hides the loader's reason; this is what LoadWithReason is for");
            var error = explained.Should().Throw<InvalidDataException>().Which;
            TestContext.Out.WriteLine($"{entryName}: {error.Message}");
            error.Message.Should().StartWith(path).And.Contain("checksum mismatch");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void A_truncated_model_zip_is_reported_with_the_file_by_LoadWithReason()
    {
        var mlContext = new MLContext(1);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        string path = Path.Combine(Path.GetTempPath(), $"sp-truncated-{Guid.NewGuid():N}.zip");
        using (var file = File.Create(path)) SaveFeaturizer(mlContext, backbone, file);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        try
        {
            var load = () => mlContext.Model.LoadWithReason(path, out _);

            load.Should().Throw<InvalidDataException>().Which.Message.Should().StartWith(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
