using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Spatial;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Spatial;

public class SpatialPredictionPluginTests
{
    [Test]
    public void SP_gradients_reach_both_the_shared_backbone_and_the_SP_head()
    {
        manual_seed(1);
        using var backbone = new SmallResNet(width: 4);
        using var plugin = new SpatialPredictionPlugin(backbone.FeatureDimension, new SpatialPredictionSettings { LocalResolution = 16, HeadWidth = 16 });
        using var images = TestScenes.Tensor(8);
        using var scope = NewDisposeScope();
        var batch = images.to_type(ScalarType.Float32) / 255f;

        using var views = plugin.MakeViews(batch, new Random(1));
        plugin.Loss(backbone, views).backward();

        backbone.parameters().Should().OnlyContain(p => !ReferenceEquals(p.grad, null));
        backbone.parameters().Sum(p => p.grad!.abs().sum().item<float>()).Should().BeGreaterThan(0f);
        plugin.Head.parameters().Should().OnlyContain(p => !ReferenceEquals(p.grad, null) && p.grad!.abs().sum().item<float>() > 0f);
    }

    [Test]
    public void Views_come_at_the_local_resolution_with_one_standardised_target_row_per_pair()
    {
        using var plugin = new SpatialPredictionPlugin(8, new SpatialPredictionSettings { LocalResolution = 12, PairsPerImage = 3 });
        using var images = TestScenes.Tensor(4);
        using var scope = NewDisposeScope();

        using var views = plugin.MakeViews(images.to_type(ScalarType.Float32) / 255f, new Random(2));

        views.Views.Should().HaveCount(2);
        views.Views[0].shape.Should().Equal(12, 3, 12, 12);
        views.Views[1].shape.Should().Equal(12, 3, 12, 12);
        views.Targets!.shape.Should().Equal(12, 4);
    }
}
