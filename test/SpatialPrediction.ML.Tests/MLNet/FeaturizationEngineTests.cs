using SpatialPrediction.ML.Machine;
using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.MLNet;

public class FeaturizationEngineTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-engine-";

    private static double RelativeDifference(IReadOnlyList<float> a, IReadOnlyList<float> b)
        => a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Max() / Math.Max(a.Max(Math.Abs), 1e-6);

    [TestCase(BackboneKind.SmallResNet)]
    [TestCase(BackboneKind.ResNet18)]
    [TestCase(BackboneKind.VitTiny)]
    public void ONNX_Runtime_gives_libtorchs_features_within_the_export_tolerance(BackboneKind kind)
    {
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(kind, Width: 8, ImageSize: 32));
        manual_seed(3);
        using var images = rand(5, 3, 32, 32);
        var libTorch = backbone.Featurization.FeaturizeBatch(images, engine: FeaturizationEngine.LibTorch);
        var onnxRuntime = backbone.Featurization.FeaturizeBatch(images, engine: FeaturizationEngine.OnnxRuntime);

        onnxRuntime.Length.Should().Be(libTorch.Length);
        RelativeDifference(libTorch, onnxRuntime).Should().BeLessThan(FeaturizationEngineCalibration.Tolerance);
        onnxRuntime.Should().NotEqual(libTorch, "ONNX Runtime really ran (its kernels round differently)");
    }

    [Test]
    public void Auto_times_both_engines_keeps_the_faster_and_remembers_it()
    {
        var spec = new BackboneSpec(BackboneKind.SmallResNet, Width: 8, ImageSize: 32);
        int calls = 0;
        float[] Fast(byte[] planes, int count) => Enumerable.Repeat(1f, count * 4).ToArray();
        float[] Slow(byte[] planes, int count)
        {
            calls++;
            Thread.Sleep(20);
            return Fast(planes, count);
        }

        var first = FeaturizationEngineCalibration.Choose(Slow, Fast, spec, 2, 32, Folder);
        int callsToChoose = calls;
        var second = FeaturizationEngineCalibration.Choose(Slow, Fast, spec, 2, 32, Folder);

        first.Engine.Should().Be(FeaturizationEngine.OnnxRuntime);
        first.Timings.Select(t => t.Engine).Should().BeEquivalentTo(new[] { FeaturizationEngine.LibTorch, FeaturizationEngine.OnnxRuntime });
        first.Timings.Single(t => t.Engine == FeaturizationEngine.LibTorch).Milliseconds.Should().BeGreaterThanOrEqualTo(20);
        first.Cached.Should().BeFalse();
        second.Should().BeEquivalentTo(first with { Cached = true });
        callsToChoose.Should().Be(1 + 5, "one pass to check agreement, then five alternating rounds (the first a warm-up)");
        (calls - callsToChoose).Should().Be(1, "a known machine and shape only checks agreement");
    }

    [Test]
    public void An_engine_whose_features_disagree_is_never_chosen_however_fast()
    {
        var spec = new BackboneSpec(BackboneKind.SmallResNet, Width: 8, ImageSize: 32);
        float[] Reference(byte[] planes, int count) => Enumerable.Repeat(1f, 8).ToArray();
        float[] Off(byte[] planes, int count) => Enumerable.Repeat(1.01f, 8).ToArray();

        var choice = FeaturizationEngineCalibration.Choose(Reference, Off, spec, 2, 32, Folder);

        choice.Engine.Should().Be(FeaturizationEngine.LibTorch);
        choice.Reason.Should().Contain("differ by 1.0E-002");
        Directory.EnumerateFiles(Folder).Should().BeEmpty("nothing is timed or cached for an engine that disagrees");
    }

    [Test]
    public void The_engine_survives_a_model_zip_and_an_ONNX_Runtime_featuriser_matches_a_libtorch_one()
    {
        var mlContext = new MLContext(1);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.ResNet18, ImageSize: 32));
        var data = TestScenes.DataView(mlContext, 6);
        var libTorch = mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { Engine = FeaturizationEngine.LibTorch }).Fit(data);
        var onnxRuntime = mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { Engine = FeaturizationEngine.OnnxRuntime }).Fit(data);
        string path = Path.Combine(Folder, "onnxruntime.zip");
        mlContext.Model.Save(onnxRuntime, data.Schema, path);
        var loaded = (SpatialFeaturizerTransformer)mlContext.Model.Load(path, out _);

        var expected = libTorch.Transform(data).GetColumn<float[]>("Features").ToList();
        var actual = loaded.Transform(data).GetColumn<float[]>("Features").ToList();

        loaded.Engine.Should().Be(FeaturizationEngine.OnnxRuntime);
        new SpatialFeaturizeOptions().Engine.Should().Be(FeaturizationEngine.Auto);
        for (int i = 0; i < expected.Count; i++) RelativeDifference(expected[i], actual[i]).Should().BeLessThan(FeaturizationEngineCalibration.Tolerance);
        loaded.Backbone.Dispose();
    }
}
