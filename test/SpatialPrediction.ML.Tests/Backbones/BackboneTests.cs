using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Backbones;

public class BackboneTests
{
    [TestCase(BackboneKind.SmallResNet, 32, 256, 4)]
    [TestCase(BackboneKind.ResNet18, 64, 512, 2)]
    [TestCase(BackboneKind.ResNet50, 64, 2048, 2)]
    [TestCase(BackboneKind.VitTiny, 32, 192, 4)]
    [TestCase(BackboneKind.VitSmall, 32, 384, 4)]
    public void Each_backbone_reports_its_feature_dimension_and_produces_it(BackboneKind kind, int size, int dimension, int mapSide)
    {
        manual_seed(1);
        using var backbone = BackboneFactory.Create(new BackboneSpec(kind, Width: 32, PatchSize: 8, ImageSize: size));
        backbone.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var images = rand(2, 3, size, size);

        backbone.FeatureDimension.Should().Be(dimension);
        backbone.forward(images).shape.Should().Equal(2, dimension);
        backbone.FeatureMap(images).shape.Should().Equal(2, dimension, mapSide, mapSide);
        backbone.Accepts(size).Should().BeTrue();
    }

    [Test]
    public void ViT_accepts_only_whole_patches_and_interpolates_positions_for_other_sizes()
    {
        using var vit = new VisionTransformer(BackboneKind.VitTiny, patchSize: 8, imageSize: 32);
        using var scope = NewDisposeScope();

        vit.Accepts(16).Should().BeTrue();
        vit.Accepts(20).Should().BeFalse();
        vit.forward(rand(2, 3, 16, 16)).shape.Should().Equal(2, 192);
        FluentActions.Invoking(() => vit.forward(rand(1, 3, 20, 20))).Should().Throw<ArgumentException>().WithMessage("*patch size 8*");
    }

    [Test]
    public void ResNets_reject_inputs_smaller_than_their_stem_allows()
    {
        using var resnet = new ResNet(BackboneKind.ResNet18);

        resnet.Accepts(16).Should().BeFalse();
        resnet.Accepts(32).Should().BeTrue();
    }

    [Test]
    public void ViT_patch_tokens_depend_on_where_the_content_is()
    {
        manual_seed(2);
        using var vit = new VisionTransformer(BackboneKind.VitTiny, patchSize: 8, imageSize: 16);
        vit.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var image = zeros(1, 3, 16, 16);
        image[0, .., 0..8, 0..8] = tensor(1f);
        var mirrored = image.flip(3);

        // Learned position embeddings make the CLS embedding sensitive to layout, not only to content.
        (vit.forward(image) - vit.forward(mirrored)).abs().max().item<float>().Should().BeGreaterThan(1e-4f);
    }
}
