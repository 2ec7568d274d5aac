using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Interop;

/// <summary>Exported backbones run in ONNX Runtime and give our TorchSharp features.</summary>
[NonParallelizable]
public class OnnxExportTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-onnx-export-";

    /// <summary>Max |ONNX Runtime − TorchSharp| over a batch of <paramref name="batch"/> random images.</summary>
    private double MaxDifference(SpatialBackbone backbone, int batch)
    {
        string path = Path.Combine(Folder, $"{backbone.Kind}-{batch}.onnx");
        backbone.ExportOnnx(path);
        int size = backbone.ImageSize;
        var random = new Random(batch);
        var pixels = Enumerable.Range(0, batch * 3 * size * size).Select(_ => (float)random.Next(256)).ToArray();

        float[] ours;
        using (var images = tensor(pixels, new long[] { batch, 3, size, size }) / 255f) ours = backbone.Featurization.FeaturizeBatch(images);
        using var session = new InferenceSession(path);
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("Pixels", new DenseTensor<float>(pixels, new[] { batch, 3, size, size })) });
        var onnx = results.Single(r => r.Name == "Features").AsTensor<float>();

        onnx.Dimensions.ToArray().Should().Equal(batch, backbone.FeatureDimension);
        var flat = onnx.ToArray();
        double scale = ours.Max(Math.Abs);
        double difference = ours.Zip(flat, (a, b) => (double)Math.Abs(a - b)).Max();
        TestContext.Out.WriteLine($"{backbone.Kind} {size} px, batch {batch}: max |ONNX Runtime − TorchSharp| = {difference:E2} (largest feature {scale:F3})");
        return difference / Math.Max(scale, 1e-6);
    }

    private static IEnumerable<TestCaseData> Backbones()
    {
        yield return new TestCaseData(new BackboneSpec(BackboneKind.SmallResNet, Width: 8, ImageSize: 32)).SetName("SmallResNet");
        yield return new TestCaseData(new BackboneSpec(BackboneKind.ResNet18, ImageSize: 64)).SetName("ResNet18");
        yield return new TestCaseData(new BackboneSpec(BackboneKind.ResNet50, ImageSize: 64)).SetName("ResNet50");
        yield return new TestCaseData(new BackboneSpec(BackboneKind.VitTiny, PatchSize: 8, ImageSize: 32)).SetName("VitTiny");
        yield return new TestCaseData(new BackboneSpec(BackboneKind.VitSmall, PatchSize: 16, ImageSize: 64)).SetName("VitSmall");
    }

    [TestCaseSource(nameof(Backbones))]
    public void ONNX_Runtime_runs_the_export_with_our_features_at_batch_1_and_3(BackboneSpec spec)
    {
        using var backbone = SpatialBackbone.CreateUntrained(spec, seed: 7);

        MaxDifference(backbone, 1).Should().BeLessThan(1e-4);
        MaxDifference(backbone, 3).Should().BeLessThan(1e-4);
    }

    [Test]
    public void The_imported_ImageNet_ResNet18_exports_with_its_mean_image_preprocessing()
    {
        using var backbone = SpatialBackbone.ImageNetResNet18();

        MaxDifference(backbone, 2).Should().BeLessThan(1e-4);
    }

    [Test]
    public void The_ONNX_pipeline_of_a_featurizer_gives_its_features_and_survives_an_ML_NET_zip()
    {
        var mlContext = new MLContext(1);
        var data = SpatialScenes.GenerateDataView(mlContext, 6, new SpatialScenesOptions { ImageSize = 32 });
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 8, ImageSize: 32), seed: 3);
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone).Fit(data);
        var expected = featurizer.Transform(data).GetColumn<float[]>("Features").ToList();

        var onnx = featurizer.ToOnnxEstimator(mlContext, Path.Combine(Folder, "featurizer.onnx")).Fit(data);
        var viaOnnx = onnx.Transform(data);
        string zip = Path.Combine(Folder, "onnx-pipeline.zip");
        mlContext.Model.Save(onnx, data.Schema, zip);
        var reloaded = new MLContext(2).Model.Load(zip, out _).Transform(data).GetColumn<float[]>("Features").ToList();

        viaOnnx.Schema.Select(c => c.Name).Should().Equal(featurizer.Transform(data).Schema.Select(c => c.Name));
        var actual = viaOnnx.GetColumn<float[]>("Features").ToList();
        double difference = expected.Zip(actual, (e, a) => e.Zip(a, (x, y) => (double)Math.Abs(x - y)).Max()).Max();
        TestContext.Out.WriteLine($"ML.NET ApplyOnnxModel pipeline vs SpatialFeaturize: max abs diff {difference:E2}");
        difference.Should().BeLessThan(1e-4);
        reloaded.Zip(actual, (r, a) => r.SequenceEqual(a)).Should().AllBeEquivalentTo(true);
    }
}
