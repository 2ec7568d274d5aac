using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
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
        yield return new("SmallResNet, MoCo v3 + SP", new BackboneSpec(BackboneKind.SmallResNet, Width: 8, ImageSize: 32), SslFramework.MoCoV3, Defaults());
        yield return new("SmallResNet, BYOL + SP", new BackboneSpec(BackboneKind.SmallResNet, Width: 8, ImageSize: 32), SslFramework.Byol, Defaults());
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
        float[] theirs = ReadTensor(features, "features", t => t.data<float>().ToArray());
        var (ours, before) = ReadTensor(images, "images", t => (imported.Featurization.FeaturizeBatch(t), dotnetStart.Featurization.FeaturizeBatch(t)));
        ours.Length.Should().Be(theirs.Length);
        ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThanOrEqualTo(1e-5f, "features of Python-trained weights must agree across implementations");
        // Training changed the weights: the featuriser is not just reading the start back.
        before.Zip(ours, (a, b) => Math.Abs(a - b)).Max().Should().BeGreaterThan(1e-3f);
    }

    /// <summary>What <paramref name="use"/> makes of one tensor of a safetensors file; every tensor read is disposed.</summary>
    private static T ReadTensor<T>(string path, string name, Func<Tensor, T> use)
    {
        var loaded = ML.Interop.SafetensorsFile.Read(path);
        try
        {
            return use(loaded[name]);
        }
        finally
        {
            foreach (var tensor in loaded.Values) tensor.Dispose();
        }
    }

    [TestCase(BackboneKind.ResNet18)]
    [TestCase(BackboneKind.ResNet50)]
    public void An_exported_ResNet_loads_into_TorchVision_by_name_but_for_the_classifier_and_featurises_the_same(BackboneKind kind)
    {
        var spec = new BackboneSpec(kind, ImageSize: 32);
        string weights = Path.Combine(Folder, "torchvision.safetensors"), images = Path.Combine(Folder, "images.safetensors");
        string features = Path.Combine(Folder, "features.safetensors");
        manual_seed(9);
        using var pictures = rand(4, 3, 32, 32);
        ML.Interop.SafetensorsFile.Write(images, new Dictionary<string, Tensor> { ["images"] = pictures });
        using var backbone = SpatialBackbone.CreateUntrained(spec, seed: 2);
        backbone.ExportSafetensors(weights, ML.Interop.WeightNaming.TorchvisionResNet);

        var (code, output) = PythonProcess.Run(new[] { "-m", "tests.torchvision_load", weights, kind.ToString(), images, features }, TimeSpan.FromMinutes(2));

        code.Should().Be(0, output);
        using var names = System.Text.Json.JsonDocument.Parse(output.Trim().Split('\n').First(l => l.StartsWith('{')));
        names.RootElement.GetProperty("missing").EnumerateArray().Select(e => e.GetString()).Should().BeEquivalentTo(new[] { "fc.bias", "fc.weight" });
        names.RootElement.GetProperty("unexpected").EnumerateArray().Should().BeEmpty();
        float[] theirs = ReadTensor(features, "features", t => t.data<float>().ToArray()), ours = backbone.Featurization.FeaturizeBatch(pictures);
        ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThanOrEqualTo(1e-4f * Math.Max(1f, ours.Max(Math.Abs)));
        // And back: the same file, its naming read from the metadata.
        using var again = SpatialBackbone.FromSafetensors(weights);
        again.Featurization.FeaturizeBatch(pictures).Should().Equal(backbone.Featurization.FeaturizeBatch(pictures));
    }

    [Test]
    public void A_torchrun_model_featurised_here_probes_exactly_as_when_featurised_in_Python()
    {
        string train = Path.Combine(Folder, "train.safetensors"), test = Path.Combine(Folder, "test.safetensors");
        string trained = Path.Combine(Folder, "trained.safetensors");
        // Small enough for the suite; test/.../round-trip-at-scale.runsettings runs the same test at the quick start's size.
        int trainCount = TestContext.Parameters.Get("RoundTripTrainImages", 384), testCount = TestContext.Parameters.Get("RoundTripTestImages", 192);
        int epochs = TestContext.Parameters.Get("RoundTripEpochs", 3), width = TestContext.Parameters.Get("RoundTripWidth", 16);
        var trainScenes = SpatialScenes.Generate(trainCount, new SpatialScenesOptions { ImageSize = 32, Seed = 1 });
        var testScenes = SpatialScenes.Generate(testCount, new SpatialScenesOptions { ImageSize = 32, Seed = 2 });
        WriteScenes(trainScenes, train);
        WriteScenes(testScenes, test);

        var (code, output) = PythonProcess.Run(new[]
        {
            "-m", "spatial_prediction_torch.torchrun", "--nproc_per_node", "2", "--master_port", "29533", "-m", "spatial_prediction_torch.train",
            "--images", train, "--image-size", "32", "--backbone", "SmallResNet", "--width", $"{width}", "--host", "simclr", "--batch-size", "64",
            "--epochs", $"{epochs}", "--out", trained,
        }, TimeSpan.FromHours(2));
        code.Should().Be(0, output);

        var mlContext = new Microsoft.ML.MLContext(1);
        using var backbone = SpatialBackbone.FromSafetensors(trained);
        backbone.Kind.Should().Be(BackboneKind.SmallResNet);
        double Accuracy(IReadOnlyList<float[]> trainFeatures, IReadOnlyList<float[]> testFeatures)
            => ML.Evaluation.SpatialEvaluation.LinearProbe(mlContext, trainFeatures, trainScenes.Select(s => s.Label).ToList(), testFeatures,
                testScenes.Select(s => s.Label).ToList()).MicroAccuracy;
        var ours = (Train: Featurize(backbone, train), Test: Featurize(backbone, test));
        var theirs = (Train: PythonFeatures(trained, train), Test: PythonFeatures(trained, test));

        double largest = ours.Train.Concat(ours.Test).Zip(theirs.Train.Concat(theirs.Test), (a, b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max()).Max();
        largest.Should().BeLessThanOrEqualTo(1e-5, "the same weights must give the same features in both implementations");
        double accuracy = Accuracy(ours.Train, ours.Test);
        TestContext.Out.WriteLine($"{trainCount} + {testCount} SpatialScenes, width {width}, {epochs} epochs on 2 processes: linear probe " +
                                  $"{accuracy:P1} on .NET features; largest feature difference {largest:E1}.\n{output}");
        Accuracy(theirs.Train, theirs.Test).Should().Be(accuracy);
        accuracy.Should().BeGreaterThan(1.0 / SpatialScenes.ClassNames.Count, "a pretrained featuriser probes above chance");
    }

    private static void WriteScenes(IReadOnlyList<SceneImage> scenes, string path)
    {
        int side = scenes[0].Width;
        using var pixels = tensor(scenes.SelectMany(s => s.Rgb).ToArray(), new long[] { scenes.Count, side, side, 3 });
        using var planar = pixels.permute(0, 3, 1, 2).contiguous();
        ML.Interop.SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["images"] = planar });
    }

    private static List<float[]> Featurize(SpatialBackbone backbone, string images) => ReadTensor(images, "images", pictures =>
    {
        using var scaled = pictures.to_type(ScalarType.Float32).div(255f);
        return backbone.Featurization.FeaturizeBatch(scaled).Chunk(backbone.FeatureDimension).ToList();
    });

    private List<float[]> PythonFeatures(string weights, string images)
    {
        string features = Path.Combine(Folder, Path.GetFileNameWithoutExtension(images) + ".features.safetensors");
        var (code, output) = PythonProcess.Run(new[] { "-m", "tests.write_features", weights, images, features }, TimeSpan.FromMinutes(2));
        code.Should().Be(0, output);
        return ReadTensor(features, "features", values => values.data<float>().ToArray().Chunk((int)values.shape[1]).ToList());
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
    public void The_Python_oneDNN_safe_mode_decides_as_the_library_does_and_reaches_oneDNN()
    {
        var (code, output) = PythonProcess.Run(new[] { "-m", "unittest", "-v", "tests.test_onednn_safety" }, TimeSpan.FromMinutes(2));
        code.Should().Be(0, output);
        output.Should().Contain("OK").And.NotContain("skipped");
    }

    [Test]
    public void The_Python_safetensors_reader_checks_what_it_reads()
    {
        var (code, output) = PythonProcess.Run(new[] { "-m", "unittest", "-v", "tests.test_safetensors" }, TimeSpan.FromMinutes(2));
        code.Should().Be(0, output);
        output.Should().Contain("OK");
    }

    [Test]
    public void The_GPU_budget_study_packs_the_runner_split_and_runs_end_to_end()
    {
        var (code, output) = PythonProcess.Run(new[] { "-m", "unittest", "-v", "tests.test_budget_study" }, TimeSpan.FromMinutes(3));
        code.Should().Be(0, output);
        output.Should().Contain("OK").And.NotContain("skipped");
    }
}
