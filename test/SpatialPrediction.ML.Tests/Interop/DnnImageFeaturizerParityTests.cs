using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Interop.Onnx;

namespace SpatialPrediction.ML.Tests.Interop;

/// <summary>Our backbone with the weights read from ML.NET's ResNet-18 ONNX files against ML.NET's own DnnFeaturizeImage.</summary>
[NonParallelizable]
public class DnnImageFeaturizerParityTests
{
    /// <summary>SpatialScenes at the network's own 224 px (no resizing on either side), in three styles.</summary>
    private static IDataView Images(MLContext mlContext)
        => SpatialScenes.ToDataView(mlContext, new[] { SceneStyle.Standard, SceneStyle.Texture, SceneStyle.Palette }
            .SelectMany(style => SpatialScenes.Generate(2, new SpatialScenesOptions { ImageSize = 224, Seed = 4, Style = style })));

    [Test]
    public void Imported_weights_give_the_features_of_DnnFeaturizeImage()
    {
        var mlContext = new MLContext(1);
        var data = Images(mlContext);
        var reference = mlContext.Transforms.ExtractPixels("Pixels", "Image")
            .Append(mlContext.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(mlContext, m.OutputColumn, m.InputColumn), "Pixels"))
            .Fit(data).Transform(data).GetColumn<float[]>("Features").ToList();
        using var backbone = SpatialBackbone.ImageNetResNet18();

        var ours = mlContext.Transforms.SpatialFeaturize(backbone).Fit(data).Transform(data).GetColumn<float[]>("Features").ToList();

        ours.Should().HaveCount(reference.Count);
        double maxAbs = 0, minCosine = 1, scale = reference.SelectMany(r => r).Max(Math.Abs);
        for (int i = 0; i < ours.Count; i++)
        {
            ours[i].Should().HaveCount(512);
            maxAbs = Math.Max(maxAbs, ours[i].Zip(reference[i], (a, b) => (double)Math.Abs(a - b)).Max());
            double dot = ours[i].Zip(reference[i], (a, b) => (double)a * b).Sum();
            double norms = Math.Sqrt(ours[i].Sum(a => (double)a * a) * reference[i].Sum(b => (double)b * b));
            minCosine = Math.Min(minCosine, dot / norms);
        }
        TestContext.Out.WriteLine($"max |ours − DnnFeaturizeImage| = {maxAbs:E2} (largest feature {scale:F3}), min cosine {minCosine:F7}");
        maxAbs.Should().BeLessThan(1e-4);
        minCosine.Should().BeGreaterThan(0.99999);
        backbone.Spec.Normalization.Should().Be(InputNormalization.BgrMeanImage);
    }

    [Test]
    public void The_imported_backbone_saves_and_reloads_with_its_preprocessing()
    {
        using var backbone = SpatialBackbone.ImageNetResNet18();
        using var file = new MemoryStream();
        backbone.Save(file);
        file.Position = 0;

        using var loaded = SpatialBackbone.Load(file);

        loaded.Spec.Should().Be(backbone.Spec);
        loaded.TrainedWith.Should().Contain("Microsoft.ML.DnnImageFeaturizer.ResNet18");
        using var image = SpatialScenes.ToMLImage(SpatialScenes.Generate(1, new SpatialScenesOptions { ImageSize = 224 })[0]);
        loaded.Featurize(image).Should().Equal(backbone.Featurize(image));
    }

    [Test]
    public void Missing_and_unexpected_ONNX_files_say_what_was_expected()
    {
        string folder = Directory.CreateTempSubdirectory("sp-onnx-").FullName;
        try
        {
            var missing = () => SpatialBackbone.ImageNetResNet18(folder);
            missing.Should().Throw<FileNotFoundException>().WithMessage("*ResNet18.onnx not found*Microsoft.ML.DnnImageFeaturizer.ResNet18*");

            Directory.CreateDirectory(Path.Combine(folder, "ResNet18Onnx"));
            Directory.CreateDirectory(Path.Combine(folder, "ResNetPrepOnnx"));
            File.Copy(Path.Combine(DnnImageFeaturizerResNet18.DefaultModelFolder, "ResNetPrepOnnx", "ResNetPreprocess.onnx"), Path.Combine(folder, "ResNetPrepOnnx", "ResNetPreprocess.onnx"));
            // The preprocessing graph where the network should be: a valid ONNX file, but not ResNet-18.
            File.Copy(Path.Combine(folder, "ResNetPrepOnnx", "ResNetPreprocess.onnx"), Path.Combine(folder, "ResNet18Onnx", "ResNet18.onnx"));
            var wrongGraph = () => SpatialBackbone.ImageNetResNet18(folder);
            wrongGraph.Should().Throw<InvalidDataException>().WithMessage("*ResNet18.onnx: expected the CNTK ResNet-18 (19 convolutions*");

            File.WriteAllBytes(Path.Combine(folder, "ResNet18Onnx", "ResNet18.onnx"), "not protobuf at all"u8.ToArray());
            var corrupt = () => SpatialBackbone.ImageNetResNet18(folder);
            corrupt.Should().Throw<InvalidDataException>().WithMessage("*ResNet18.onnx: not a readable ONNX model*");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Without_models_next_to_the_application_the_NuGet_package_folder_is_searched()
    {
        string root = Path.Combine(Path.GetTempPath(), $"sp-dnnmodels-{Guid.NewGuid():N}");
        try
        {
            var candidates = DnnImageFeaturizerResNet18.ModelFolderCandidates(Path.Combine(root, "app"), Path.Combine(root, "packages"), Path.Combine(root, "home"));
            candidates[0].Should().Be(Path.Combine(root, "app", "DnnImageModels"));
            candidates[1].Should().Be(Path.Combine(root, "packages", "microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels"));
            DnnImageFeaturizerResNet18.ModelFolderCandidates("app", null, Path.Combine(root, "home"))[1]
                .Should().StartWith(Path.Combine(root, "home", ".nuget", "packages"), "NUGET_PACKAGES unset: the user's global packages folder");
            DnnImageFeaturizerResNet18.HasModels(DnnImageFeaturizerResNet18.DefaultModelFolder).Should().BeTrue("the test project references the package");

            var missing = () => DnnImageFeaturizerResNet18.Load(Path.Combine(root, "nowhere"));
            missing.Should().Throw<FileNotFoundException>().WithMessage($"*nowhere*ResNet18.onnx not found. Reference the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1*")
                .Which.Message.Should().NotContain("looked in", "a folder the caller named is the only place looked in");
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
