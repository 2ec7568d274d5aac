using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Interop.PythonCompanion;

/// <summary>
/// The Python companion (python/spatial_prediction_torch) against this library: the same views, targets, features,
/// losses and AdamW step from pinned inputs; weights both ways; and its torchrun/DDP training equal to one process.
/// </summary>
[NonParallelizable]
public class PythonCompanionTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-python-";

    [OneTimeSetUp]
    public void RequireTorch() => PythonProcess.RequireTorch();

    /// <summary>SP settings as a user gets them from the public options' defaults.</summary>
    private static SpatialPredictionOptions Defaults(Action<SpatialPredictionOptions>? change = null)
    {
        var options = new SpatialPredictionOptions();
        change?.Invoke(options);
        return options;
    }

    private static IEnumerable<ParityCase> Cases()
    {
        yield return new("SmallResNet, SimCLR + SP", new BackboneSpec(BackboneKind.SmallResNet, Width: 8, ImageSize: 32), SslFramework.SimClr, Defaults());
        yield return new("SmallResNet, DINO + SP", new BackboneSpec(BackboneKind.SmallResNet, Width: 8, ImageSize: 32), SslFramework.Dino, Defaults());
        yield return new("ResNet18, SimCLR + SP with detail resolution", new BackboneSpec(BackboneKind.ResNet18, ImageSize: 32), SslFramework.SimClr,
            Defaults(o => o.DetailResolution = 16));
        yield return new("ViT-Tiny, SimCLR + SP, image-normalised targets, no projector", new BackboneSpec(BackboneKind.VitTiny, PatchSize: 8, ImageSize: 32),
            SslFramework.SimClr, Defaults(o => { o.Targets = ML.Spatial.TargetParameterization.ImageNormalized; o.ProjectorWidth = 0; }));
    }

    [TestCaseSource(nameof(Cases))]
    public void Python_reproduces_views_targets_features_losses_and_one_AdamW_step(ParityCase @case)
    {
        string fixture = Path.Combine(Folder, "fixture.safetensors");
        ParityFixture.Write(@case, fixture);

        var (code, output) = PythonProcess.Run(new[] { "-m", "unittest", "-v", "tests.test_parity" }, TimeSpan.FromMinutes(5),
            new Dictionary<string, string> { ["SP_PARITY_FIXTURE"] = fixture });

        TestContext.Out.WriteLine(output);
        code.Should().Be(0, $"the Python side must match the .NET fixture for {@case.Name}:\n{output}");
        output.Should().Contain("Ran 5 tests").And.Contain("OK");
    }

    [Test]
    public void Weights_move_both_ways_and_featurise_the_same()
    {
        var spec = new BackboneSpec(BackboneKind.ResNet18, ImageSize: 32);
        string start = Path.Combine(Folder, "start.safetensors"), trained = Path.Combine(Folder, "trained.safetensors");
        string images = Path.Combine(Folder, "images.safetensors"), features = Path.Combine(Folder, "features.safetensors");
        manual_seed(5);
        using (var pictures = rand(16, 3, 32, 32))
            ML.Interop.SafetensorsFile.Write(images, new Dictionary<string, Tensor> { ["images"] = pictures });
        using var dotnetStart = SpatialBackbone.CreateUntrained(spec, seed: 3);
        dotnetStart.ExportSafetensors(start);

        // .NET weights in, two DDP-free Python steps, the backbone out; then Python's features of the same images.
        var (code, output) = PythonProcess.Run(new[]
        {
            "-m", "spatial_prediction_torch.train", "--images", images, "--image-size", "32", "--backbone", "ResNet18", "--host", "simclr",
            "--batch-size", "8", "--steps", "2", "--init", start, "--out", trained,
        }, TimeSpan.FromMinutes(5));
        code.Should().Be(0, output);
        (code, output) = PythonProcess.Run(new[] { "-m", "tests.write_features", trained, images, features }, TimeSpan.FromMinutes(2));
        code.Should().Be(0, output);

        using var imported = SpatialBackbone.CreateUntrained(spec, seed: 4);
        var report = imported.ImportSafetensors(trained);
        report.Missing.Should().BeEmpty();
        report.Unexpected.Should().BeEmpty();
        var pythonFeatures = ML.Interop.SafetensorsFile.Read(features);
        var loaded = ML.Interop.SafetensorsFile.Read(images);
        try
        {
            float[] ours = imported.FeaturizeBatch(loaded["images"]);
            float[] theirs = pythonFeatures["features"].data<float>().ToArray();
            ours.Length.Should().Be(theirs.Length);
            ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThanOrEqualTo(1e-5f, "features of Python-trained weights must agree across implementations");
            // Training changed the weights: the featuriser is not just reading the start back.
            float[] before = dotnetStart.FeaturizeBatch(loaded["images"]);
            before.Zip(ours, (a, b) => Math.Abs(a - b)).Max().Should().BeGreaterThan(1e-3f);
        }
        finally
        {
            foreach (var t in pythonFeatures.Values.Concat(loaded.Values)) t.Dispose();
        }
    }

    [Test]
    public void A_two_process_torchrun_run_equals_one_process_and_resumes_exactly()
    {
        var (code, output) = PythonProcess.Run(new[] { "-m", "unittest", "-v", "tests.test_distributed" }, TimeSpan.FromMinutes(8),
            new Dictionary<string, string> { ["SP_WORK_FOLDER"] = Folder });
        TestContext.Out.WriteLine(output);
        code.Should().Be(0, output);
        output.Should().Contain("OK");
    }

    [Test]
    public void The_Python_safetensors_reader_checks_what_it_reads()
    {
        var (code, output) = PythonProcess.Run(new[] { "-m", "unittest", "-v", "tests.test_safetensors" }, TimeSpan.FromMinutes(2));
        code.Should().Be(0, output);
        output.Should().Contain("OK");
    }
}
