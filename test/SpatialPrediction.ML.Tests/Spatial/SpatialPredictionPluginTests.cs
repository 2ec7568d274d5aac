using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Views;
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

        using var pictures = PictureBatch.Of(batch);
        using var views = plugin.MakeViews(pictures, new Random(1), CPU);
        plugin.Loss(backbone, views).backward();

        backbone.parameters().Should().OnlyContain(p => !ReferenceEquals(p.grad, null));
        backbone.parameters().Sum(p => p.grad!.abs().sum().item<float>()).Should().BeGreaterThan(0f);
        plugin.Head.parameters().Should().OnlyContain(p => !ReferenceEquals(p.grad, null) && p.grad!.abs().sum().item<float>() > 0f);
    }

    [Test]
    public void Both_directions_add_the_reversed_targets_after_the_forward_ones_and_train_on_both()
    {
        manual_seed(1);
        using var backbone = new SmallResNet(width: 4);
        var settings = new SpatialPredictionSettings
        {
            LocalResolution = 16, HeadWidth = 16, Parameterization = TargetParameterization.ImageNormalized,
            Sampler = new SpatialViewPairSampler { MirrorProbability = 0.5f },
        };
        using var one = new SpatialPredictionPlugin(backbone.FeatureDimension, settings);
        using var both = new SpatialPredictionPlugin(backbone.FeatureDimension, settings with { PredictsBothDirections = true });
        using var images = TestScenes.Tensor(6);
        using var scope = NewDisposeScope();
        using var pictures = PictureBatch.Of(images.to_type(ScalarType.Float32) / 255f);

        using var forward = one.MakeViews(pictures, new Random(4), CPU);
        using var twoWay = both.MakeViews(pictures, new Random(4), CPU);

        twoWay.Targets!.shape.Should().Equal(12, 4);
        twoWay.Targets[..6].allclose(forward.Targets!, rtol: 0, atol: 0).Should().BeTrue("the first rows are the usual B-relative-to-A targets");
        // In image-normalised targets, A relative to B is B relative to A negated: compared before standardisation.
        var mean = tensor(both.Standardizer.Mean);
        var std = tensor(both.Standardizer.Std);
        var raw = twoWay.Targets * std + mean;
        raw[6..].allclose(-raw[..6], rtol: 1e-4, atol: 1e-5).Should().BeTrue("A relative to B is B relative to A negated");
        twoWay.Views[0].allclose(forward.Views[0], rtol: 0, atol: 0).Should().BeTrue("the views are the same draws");
        var loss = both.Loss(backbone, twoWay);
        loss.backward();
        float.IsFinite(loss.item<float>()).Should().BeTrue();
        both.Head.parameters().Should().OnlyContain(p => !ReferenceEquals(p.grad, null));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void SP_moves_the_backbone_s_running_batch_norm_statistics_only_when_asked_to(bool updates)
    {
        manual_seed(1);
        using var backbone = new SmallResNet(width: 4);
        backbone.train();
        using var plugin = new SpatialPredictionPlugin(backbone.FeatureDimension,
            new SpatialPredictionSettings { LocalResolution = 16, HeadWidth = 16, UpdatesBatchNormStatistics = updates });
        using var images = TestScenes.Tensor(8);
        using var scope = NewDisposeScope();
        using var pictures = PictureBatch.Of(images.to_type(ScalarType.Float32) / 255f);
        using var views = plugin.MakeViews(pictures, new Random(1), CPU);
        var before = backbone.buffers().Select(b => b.clone()).ToList();

        plugin.Loss(backbone, views).backward();

        var after = backbone.buffers().ToList();
        bool moved = before.Zip(after).Any(pair => pair.First.dtype == ScalarType.Float32 && !pair.First.allclose(pair.Second, rtol: 0, atol: 0));
        moved.Should().Be(updates);
        backbone.modules().OfType<TorchSharp.Modules.BatchNorm>().Should().OnlyContain(n => n.momentum != 0, "the momenta are restored");
    }

    [Test]
    public void Views_come_at_the_local_resolution_with_one_standardised_target_row_per_pair()
    {
        using var plugin = new SpatialPredictionPlugin(8, new SpatialPredictionSettings { LocalResolution = 12, PairsPerImage = 3 });
        using var images = TestScenes.Tensor(4);
        using var scope = NewDisposeScope();

        using var pictures = PictureBatch.Of(images);
        using var views = plugin.MakeViews(pictures, new Random(2), CPU);

        views.Views.Should().HaveCount(2);
        views.Views[0].shape.Should().Equal(12, 3, 12, 12);
        views.Views[1].shape.Should().Equal(12, 3, 12, 12);
        views.Targets!.shape.Should().Equal(12, 4);
    }

    [Test]
    public void With_a_detail_resolution_views_carry_no_finer_detail_than_that_side()
    {
        // A one-pixel checkerboard: every view of it is pure fine detail.
        var board = zeros(4, 3, 64, 64);
        board.index_put_(ones(1), TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(0, null, 2), TensorIndex.Slice(0, null, 2));
        board.index_put_(ones(1), TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(1, null, 2), TensorIndex.Slice(1, null, 2));
        var identity = SpatialPrediction.ML.Views.PhotometricAugmentation.Identity;
        using var plain = new SpatialPredictionPlugin(8, new SpatialPredictionSettings { LocalResolution = 16 });
        using var equalized = new SpatialPredictionPlugin(8, new SpatialPredictionSettings { LocalResolution = 16, DetailResolution = 4 });
        using var scope = NewDisposeScope();

        using var pictures = PictureBatch.Of(board);
        using var plainViews = plain.MakeViews(pictures, new Random(3), CPU, identity);
        using var equalizedViews = equalized.MakeViews(pictures, new Random(3), CPU, identity);

        // Fine detail: mean absolute difference between horizontally neighbouring pixels.
        static float Detail(Tensor v) => (v[.., .., .., 1..] - v[.., .., .., ..^1]).abs().mean().item<float>();
        Detail(equalizedViews.Views[0]).Should().BeLessThan(Detail(plainViews.Views[0]) / 4);
        equalizedViews.Views[0].shape.Should().Equal(plainViews.Views[0].shape);
        equalizedViews.Targets!.allclose(plainViews.Targets!, rtol: 0, atol: 0).Should().BeTrue("the same pairs are drawn");
    }
}
