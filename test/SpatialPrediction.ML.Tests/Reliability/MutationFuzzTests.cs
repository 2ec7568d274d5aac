using System.Diagnostics;
using Microsoft.ML;
using SkiaSharp;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Interop;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Reliability;

/// <summary>
/// A seeded mutation loop over valid files of every format the library reads (PNG, JPEG, GIF, safetensors, backbone
/// files, ML.NET model zips): bit flips, boundary bytes, huge length fields, truncation, deletion and duplication. Each
/// mutant must load or fail with the reader's own clear exception; a crash, a hang, or a bug-shaped exception
/// (null reference, index out of range, out of memory) fails the test with the seed and iteration to replay it.
/// </summary>
[NonParallelizable]
public class MutationFuzzTests : TemporaryFolderTest
{
    private static readonly Type[] BugShaped =
    {
        typeof(NullReferenceException), typeof(IndexOutOfRangeException), typeof(OutOfMemoryException),
        typeof(AccessViolationException), typeof(DivideByZeroException), typeof(InsufficientExecutionStackException),
    };

    protected override string Prefix => "sp-fuzz-";

    private static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = valid.ToArray();
        int edits = random.Next(1, 5);
        for (int e = 0; e < edits && bytes.Length > 0; e++)
        {
            int at = random.Next(bytes.Length);
            switch (random.Next(6))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes[at] = new byte[] { 0, 0xFF, 0x7F, 0x80, 1 }[random.Next(5)]; break;
                case 2: // a length or size field turned huge or negative
                    for (int k = 0; k < 4 && at + k < bytes.Length; k++) bytes[at + k] = k == 0 ? (byte)0x7F : (byte)0xFF;
                    break;
                case 3: bytes = bytes[..at]; break;
                case 4: bytes = bytes[..at].Concat(bytes[Math.Min(bytes.Length, at + random.Next(1, 64))..]).ToArray(); break;
                default: bytes = bytes[..at].Concat(bytes[at..Math.Min(bytes.Length, at + random.Next(1, 64))]).Concat(bytes[at..]).ToArray(); break;
            }
        }
        return bytes;
    }

    /// <summary>Runs <paramref name="load"/> on mutants of <paramref name="valid"/>; returns (iterations, accepted, rejected).</summary>
    private static (int Iterations, int Loaded, int Rejected) Fuzz(string format, byte[] valid, int iterations, int seed, Action<byte[]> load,
        params Type[] clearErrors)
    {
        load(valid); // the unmutated file loads: rejections below are the mutations' doing
        var random = new Random(seed);
        int loaded = 0, rejected = 0;
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < iterations; i++)
        {
            var mutant = Mutate(valid, random);
            try
            {
                load(mutant);
                loaded++;
            }
            catch (Exception thrown)
            {
                // ML.NET creates transformers by reflection: what a loader threw arrives wrapped.
                var e = thrown;
                while (e is System.Reflection.TargetInvocationException { InnerException: { } inner }) e = inner;
                if (!clearErrors.Any(t => t.IsInstanceOfType(e)) || BugShaped.Any(t => t.IsInstanceOfType(e)))
                    Assert.Fail($"{format}, seed {seed}, iteration {i}: {e.GetType().Name} is not one of the reader's clear errors: {thrown}");
                rejected++;
                kinds[e.GetType().Name] = kinds.GetValueOrDefault(e.GetType().Name) + 1;
            }
        }
        TestContext.Out.WriteLine($"{format}: {iterations} mutants, {loaded} loaded, {rejected} rejected with a clear error " +
                                  $"({string.Join(", ", kinds.Select(k => $"{k.Key} {k.Value}"))})");
        return (iterations, loaded, rejected);
    }

    [Test]
    public void Mutated_images_decode_or_fail_with_InvalidDataException()
    {
        var png = ImageFiles.Encode(16, 16, (x, y) => new SKColor((byte)(x * 16), (byte)(y * 16), 90));
        var jpeg = ImageFiles.Encode(16, 16, (x, y) => new SKColor((byte)(x * 16), (byte)(y * 16), 90), SKEncodedImageFormat.Jpeg);
        var gif = ImageFiles.AnimatedGif(8, SKColors.Teal, SKColors.Orange);
        void Decode(byte[] bytes) => ImageDecoder.Decode(bytes, "mutant").Dispose();

        var results = new[]
        {
            Fuzz("PNG", png, 5000, 1, Decode, typeof(InvalidDataException)),
            Fuzz("JPEG", jpeg, 5000, 2, Decode, typeof(InvalidDataException)),
            Fuzz("GIF", gif, 5000, 3, Decode, typeof(InvalidDataException)),
        };

        results.Should().OnlyContain(r => r.Rejected > 0, "mutants that break the format must be caught");
    }

    [Test]
    public void Mutated_safetensors_and_backbone_files_load_or_fail_with_InvalidDataException()
    {
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        string safetensors = Path.Combine(Folder, "valid.safetensors");
        backbone.ExportSafetensors(safetensors);
        using var saved = new MemoryStream();
        backbone.Save(saved);
        string mutantPath = Path.Combine(Folder, "mutant.safetensors");

        var tensors = Fuzz("safetensors", File.ReadAllBytes(safetensors), 3000, 4, bytes =>
        {
            File.WriteAllBytes(mutantPath, bytes);
            foreach (var tensor in SafetensorsFile.Read(mutantPath).Values) tensor.Dispose();
        }, typeof(InvalidDataException));
        var backbones = Fuzz("backbone file", saved.ToArray(), 3000, 5, bytes =>
        {
            using var stream = new MemoryStream(bytes);
            SpatialBackbone.Load(stream).Dispose();
        }, typeof(InvalidDataException));

        tensors.Rejected.Should().BeGreaterThan(0);
        backbones.Loaded.Should().BeLessThan(backbones.Iterations / 10, "the checksum catches changed weights");
    }

    [Test]
    public void Mutated_model_zips_load_or_fail_with_an_exception_ML_NET_or_the_library_throws_on_purpose()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 2);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone).Fit(data);
        using var zip = new MemoryStream();
        mlContext.Model.Save(featurizer, data.Schema, zip);
        var clock = Stopwatch.StartNew();

        // ML.NET reports a damaged zip as InvalidDataException (zip layer), FormatException or InvalidOperationException
        // (its own model checks, "Corrupt model file"), and our loader adds InvalidDataException naming the problem.
        var result = Fuzz("ML.NET model zip", zip.ToArray(), 3000, 6, bytes =>
        {
            using var stream = new MemoryStream(bytes);
            var model = mlContext.Model.Load(stream, out _);
            (model as IDisposable)?.Dispose();
        }, typeof(InvalidDataException), typeof(FormatException), typeof(InvalidOperationException), typeof(ArgumentException), typeof(IOException));

        TestContext.Out.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s");
        result.Rejected.Should().BeGreaterThan(0);
    }
}
