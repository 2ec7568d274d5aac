using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Interop;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Interop;

public class SafetensorsTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-safetensors-";

    private static float[] Features(SpatialBackbone backbone, int seed = 3)
    {
        manual_seed(seed);
        using var images = rand(4, 3, backbone.ImageSize, backbone.ImageSize);
        return backbone.Featurization.FeaturizeBatch(images);
    }

    [Test]
    public void Export_then_import_gives_identical_features()
    {
        var spec = new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32);
        using var source = SpatialBackbone.CreateUntrained(spec, seed: 1);
        using var target = SpatialBackbone.CreateUntrained(spec, seed: 2);
        string path = Path.Combine(Folder, "weights.safetensors");
        Features(source).Should().NotEqual(Features(target));

        source.ExportSafetensors(path);
        var report = target.ImportSafetensors(path);

        Features(target).Should().Equal(Features(source));
        report.Missing.Should().BeEmpty();
        report.Unexpected.Should().BeEmpty();
        report.Loaded.Should().Contain("stem.0.weight");
    }

    [Test]
    public void A_file_missing_a_tensor_is_refused_naming_it_and_nothing_is_changed()
    {
        var spec = new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32);
        using var source = SpatialBackbone.CreateUntrained(spec, seed: 1);
        using var target = SpatialBackbone.CreateUntrained(spec, seed: 2);
        var state = source.Module.state_dict().Where(kv => kv.Key != "stem.0.weight").ToDictionary(kv => kv.Key, kv => kv.Value);
        string path = Path.Combine(Folder, "partial.safetensors");
        SafetensorsFile.Write(path, state);
        var before = Features(target);

        FluentActions.Invoking(() => target.ImportSafetensors(path))
            .Should().Throw<InvalidDataException>().WithMessage("*1 backbone tensor*stem.0.weight*");
        Features(target).Should().Equal(before);
        target.ImportSafetensors(path, allowMissing: true).Missing.Should().Equal("stem.0.weight");
    }

    [Test]
    public void Shape_mismatches_are_reported_with_both_shapes()
    {
        using var wide = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 8, ImageSize: 32));
        using var narrow = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        string path = Path.Combine(Folder, "wide.safetensors");
        wide.ExportSafetensors(path);

        FluentActions.Invoking(() => narrow.ImportSafetensors(path))
            .Should().Throw<InvalidDataException>().WithMessage("*shapes differ*stages.0.conv1.weight (file [8, 8, 3, 3], backbone [4, 4, 3, 3])*");
    }

    [TestCase(BackboneKind.ResNet18)]
    [TestCase(BackboneKind.ResNet50)]
    public void TorchVision_named_ResNet_weights_load_into_our_ResNet(BackboneKind kind)
    {
        var spec = new BackboneSpec(kind, ImageSize: 32);
        using var source = SpatialBackbone.CreateUntrained(spec, seed: 1);
        using var target = SpatialBackbone.CreateUntrained(spec, seed: 2);
        var ours = source.Module.state_dict();
        var torchvision = TorchvisionNames(kind).ToDictionary(n => n, n => ours[TorchvisionResNetKeys.ToOurs(n, kind)!]);
        torchvision["fc.weight"] = zeros(1000, kind == BackboneKind.ResNet18 ? 512 : 2048);
        torchvision["fc.bias"] = zeros(1000);
        string path = Path.Combine(Folder, "torchvision.safetensors");
        SafetensorsFile.Write(path, torchvision);

        var report = target.ImportSafetensors(path, WeightNaming.TorchvisionResNet);

        report.Missing.Should().BeEmpty("every backbone tensor has a TorchVision name");
        report.Unexpected.Should().BeEquivalentTo("fc.weight", "fc.bias");
        Features(target).Should().Equal(Features(source));
    }

    [Test]
    public void A_damaged_header_is_reported_with_the_file_name()
    {
        string path = Path.Combine(Folder, "broken.safetensors");
        File.WriteAllBytes(path, BitConverter.GetBytes(1_000_000L).Concat(new byte[20]).ToArray());

        FluentActions.Invoking(() => SafetensorsFile.Read(path)).Should().Throw<InvalidDataException>().WithMessage($"{path}*header length*");
    }

    /// <summary>TorchVision's ResNet state-dict names, generated from its layout.</summary>
    private static IEnumerable<string> TorchvisionNames(BackboneKind kind)
    {
        string[] bn = { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" };
        IEnumerable<string> Bn(string prefix) => bn.Select(b => $"{prefix}.{b}");
        var names = new List<string> { "conv1.weight" };
        names.AddRange(Bn("bn1"));
        int[] depths = kind == BackboneKind.ResNet18 ? new[] { 2, 2, 2, 2 } : new[] { 3, 4, 6, 3 };
        int convs = kind == BackboneKind.ResNet18 ? 2 : 3;
        for (int layer = 1; layer <= 4; layer++)
        for (int block = 0; block < depths[layer - 1]; block++)
        {
            string p = $"layer{layer}.{block}";
            for (int c = 1; c <= convs; c++)
            {
                names.Add($"{p}.conv{c}.weight");
                names.AddRange(Bn($"{p}.bn{c}"));
            }
            if (block == 0 && (layer > 1 || kind == BackboneKind.ResNet50))
            {
                names.Add($"{p}.downsample.0.weight");
                names.AddRange(Bn($"{p}.downsample.1"));
            }
        }
        return names;
    }
}

public class SafetensorsArchitectureTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-safetensors-spec-";

    [Test]
    public void The_ImageNet_network_comes_back_from_its_file_with_its_mean_image_input()
    {
        using var imageNet = SpatialBackbone.ImageNetResNet18();
        string path = Path.Combine(Folder, "imagenet.safetensors");
        imageNet.ExportSafetensors(path);
        manual_seed(4);
        using var images = rand(2, 3, imageNet.ImageSize, imageNet.ImageSize);

        using var again = SpatialBackbone.FromSafetensors(path);

        again.Spec.Should().Be(imageNet.Spec);
        again.Featurization.FeaturizeBatch(images).Should().Equal(imageNet.Featurization.FeaturizeBatch(images));
    }

    [Test]
    public void TorchVision_names_are_refused_for_the_ImageNet_network_whose_layout_TorchVision_lacks()
    {
        using var imageNet = SpatialBackbone.ImageNetResNet18();
        FluentActions.Invoking(() => imageNet.ExportSafetensors(Path.Combine(Folder, "x.safetensors"), WeightNaming.TorchvisionResNet))
            .Should().Throw<ArgumentException>().WithMessage("*ResNet18 and ResNet50 only, not for CntkResNet18*third block*");
    }

    [Test]
    public void Reading_a_backbone_from_a_file_leaves_the_random_stream_alone()
    {
        var spec = new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32);
        string path = Path.Combine(Folder, "small.safetensors");
        using (var source = SpatialBackbone.CreateUntrained(spec)) source.ExportSafetensors(path);

        manual_seed(11);
        using var expected = rand(4);
        manual_seed(11);
        using (SpatialBackbone.FromSafetensors(path)) { }
        using var actual = rand(4);

        actual.data<float>().ToArray().Should().Equal(expected.data<float>().ToArray());
    }

    [Test]
    public void A_file_whose_tensors_are_not_the_named_backbone_is_refused_naming_them()
    {
        var small = new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32);
        string path = Path.Combine(Folder, "small.safetensors");
        using (var source = SpatialBackbone.CreateUntrained(small)) source.ExportSafetensors(path);

        FluentActions.Invoking(() => SpatialBackbone.FromSafetensors(path, new BackboneSpec(BackboneKind.VitTiny, PatchSize: 8, ImageSize: 32), WeightNaming.Native))
            .Should().Throw<InvalidDataException>();
    }
}
