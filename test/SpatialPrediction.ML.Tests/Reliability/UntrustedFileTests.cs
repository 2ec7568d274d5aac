using System.Diagnostics;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Interop;

namespace SpatialPrediction.ML.Tests.Reliability;

/// <summary>Files from strangers: reading them never runs code and never allocates what a header merely claims.</summary>
public class UntrustedFileTests
{
    [Test]
    public void The_library_references_no_deserialiser_that_can_run_code()
    {
        // Pickle (torch.save's format) and .NET's type-embedding formatters instantiate whatever a file names.
        string[] forbidden =
        {
            "BinaryFormatter", "SoapFormatter", "NetDataContractSerializer", "LosFormatter", "ObjectStateFormatter",
            "Unpickler", "PickleLoader", "TypeNameHandling",
        };
        using var stream = File.OpenRead(typeof(SpatialBackbone).Assembly.Location);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var names = metadata.TypeReferences.Select(h => metadata.GetString(metadata.GetTypeReference(h).Name))
            .Concat(metadata.MemberReferences.Select(h => metadata.GetString(metadata.GetMemberReference(h).Name)))
            .Concat(metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name)))
            .ToList();

        names.Should().HaveCountGreaterThan(100, "the scan must see the library's references");
        names.Where(n => forbidden.Any(f => n.Contains(f, StringComparison.OrdinalIgnoreCase))).Should().BeEmpty();
        names.Should().NotContain(n => n.StartsWith("TorchSharp.PyBridge", StringComparison.Ordinal), "PyBridge reads pickled PyTorch files");
    }

    private static string Safetensors(string header)
    {
        string path = Path.Combine(Path.GetTempPath(), $"sp-absurd-{Guid.NewGuid():N}.safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        File.WriteAllBytes(path, BitConverter.GetBytes((long)json.Length).Concat(json).Concat(new byte[16]).ToArray());
        return path;
    }

    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,16]}}", "too large")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":[1048576,1048576],\"data_offsets\":[0,16]}}", "needs 4398046511104 bytes, the file gives 16")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,1099511627776]}}", "invalid shape or byte range")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", "invalid shape or byte range")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":\"big\",\"data_offsets\":[0,16]}}", "no shape array")]
    public void Absurd_tensor_shapes_in_safetensors_are_rejected_before_allocation(string header, string expected)
    {
        string path = Safetensors(header);
        long before = Process.GetCurrentProcess().PeakWorkingSet64;
        try
        {
            var read = () => SafetensorsFile.Read(path);

            read.Should().Throw<InvalidDataException>().WithMessage($"{path}*{expected}*");
            (Process.GetCurrentProcess().PeakWorkingSet64 - before).Should().BeLessThan(100L << 20);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void A_backbone_file_claiming_terabytes_of_weights_is_rejected_before_allocation()
    {
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        using var saved = new MemoryStream();
        backbone.Save(saved);
        var bytes = saved.ToArray();
        // The weight length is the int64 right after magic (8), version (4), header length (4) and the header.
        int headerLength = BitConverter.ToInt32(bytes, 12);
        BitConverter.GetBytes(1L << 40).CopyTo(bytes, 16 + headerLength);

        var huge = () => SpatialBackbone.Load(new MemoryStream(bytes));
        huge.Should().Throw<InvalidDataException>().WithMessage("*implausible weight size 1099511627776*");

        BitConverter.GetBytes(1L << 30).CopyTo(bytes, 16 + headerLength);
        var bigger = () => SpatialBackbone.Load(new MemoryStream(bytes));
        bigger.Should().Throw<InvalidDataException>().WithMessage("*header promises 1073741824 weight bytes*");
    }
}
