using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Training;
using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Spatial;

public class SpatialPredictionOnHostViewsTests
{
    private static readonly SpatialPredictionSettings OnHostViews = new() { HeadWidth = 16, OnHostViews = true };

    [Test]
    public void On_the_host_s_views_SP_makes_no_views_and_no_backbone_pass_of_its_own()
    {
        using var host = new SimClrObjective(64, 32);
        using var plugin = new SpatialPredictionPlugin(64, OnHostViews, host);
        using var images = TestScenes.Tensor(4);
        using var pictures = PictureBatch.Of(images);

        using var views = plugin.MakeViews(pictures, new Random(1), CPU);

        views.Views.Should().BeEmpty();
        plugin.BackbonePasses(4).Should().BeEmpty();
        host.SharesFirstPair.Should().BeTrue();
        host.GraphReadByLaterTerms.Should().BeTrue("the host's backward must keep the graph SP reads");
    }

    [Test]
    public void The_loss_on_the_shared_features_equals_the_loss_on_the_same_views_forwarded_again()
    {
        manual_seed(1);
        using var backbone = new SmallResNet(width: 4);
        using var host = new SimClrObjective(backbone.FeatureDimension, 32);
        using var plugin = new SpatialPredictionPlugin(backbone.FeatureDimension, OnHostViews, host);
        using var images = TestScenes.Tensor(8);
        using var scope = NewDisposeScope();
        using var pictures = PictureBatch.Of(images);
        using var views = host.MakeViews(pictures, new Random(2), CPU);

        host.Loss(backbone, views);
        var shared = plugin.Loss(backbone, ViewSet.None()).item<float>();
        // The same two views and their geometry, forwarded by SP itself: same batch, so the same batch-norm statistics.
        using var again = new ViewSet(new[] { views.Views[0].alias(), views.Views[1].alias() }, geometry: views.Geometry);
        var forwarded = plugin.Loss(backbone, again).item<float>();

        shared.Should().BeApproximately(forwarded, 1e-5f);
        float.IsFinite(shared).Should().BeTrue();
    }

    [Test]
    public void Targets_are_in_the_frame_the_first_view_is_seen_in()
    {
        using var host = new SimClrObjective(64, 32);
        using var plugin = new SpatialPredictionPlugin(64, OnHostViews with { Parameterization = TargetParameterization.ImageNormalized }, host);
        var left = new ViewBox(0.3f, 0.5f, 0.4f, 0.4f);
        var right = new ViewBox(0.7f, 0.5f, 0.2f, 0.2f);

        float[] Raw(bool firstMirrored, bool secondMirrored)
        {
            using var targets = plugin.TargetsOf(new ViewGeometry(new[] { left }, new[] { firstMirrored }),
                new ViewGeometry(new[] { right }, new[] { secondMirrored }), CPU);
            var standardized = targets.data<float>().ToArray();
            return standardized.Select((t, k) => t * plugin.Standardizer.Std[k] + plugin.Standardizer.Mean[k]).ToArray();
        }

        Raw(false, false)[0].Should().BeApproximately(0.4f, 1e-4f, "the second view lies 0.4 of the width to the right");
        Raw(true, false)[0].Should().BeApproximately(-0.4f, 1e-4f, "seen mirrored, it lies to the left of the first view");
        Raw(false, true)[0].Should().BeApproximately(0.4f, 1e-4f, "the second view's own mirroring does not move it");
        Raw(false, false)[2].Should().BeApproximately(MathF.Log(0.5f), 1e-4f, "half the width");
    }

    private static PretrainingSettings Run(int epochs) => new()
    {
        Framework = SslFramework.SimClr, BackboneWidth = 8, ImageSize = TestScenes.ImageSize, Epochs = epochs, BatchSize = 32,
        LearningRate = 3e-3, Seed = 2, SpatialPredictionWeight = 1f, SpatialPrediction = OnHostViews with { HeadWidth = 64 },
    };

    [Test]
    public void A_run_on_the_host_s_views_lowers_the_SP_loss_through_the_backbone()
    {
        using var images = TestScenes.Tensor(192);

        var result = SpatialPretrainer.Train(images, Run(8), CPU);
        using var backbone = result.Backbone;

        var history = result.History;
        history.Steps.Should().OnlyContain(s => s.SpatialLoss > 0f && s.SpatialGradientNorm > 0f, "SP's gradient reaches the backbone");
        history.MeanOfLast(8, s => s.SpatialLoss).Should().BeLessThan(history.MeanOfFirst(8, s => s.SpatialLoss) - 0.02f);
        float.IsFinite(history.SpatialValidationLossAfter).Should().BeTrue("validated on pairs cut as the host cuts them");
    }

    [Test]
    public void A_run_on_the_host_s_views_repeats_exactly()
    {
        using var images = TestScenes.Tensor(64);

        var first = SpatialPretrainer.Train(images, Run(2), CPU);
        var second = SpatialPretrainer.Train(images, Run(2), CPU);
        using var a = first.Backbone;
        using var b = second.Backbone;

        second.History.Steps.Select(s => s.TotalLoss).Should().Equal(first.History.Steps.Select(s => s.TotalLoss));
        var stateA = a.state_dict();
        var stateB = b.state_dict();
        foreach (var key in stateA.Keys) stateA[key].allclose(stateB[key], rtol: 0, atol: 0).Should().BeTrue($"parameter {key} should match");
    }

    [TestCase(SslFramework.Dino)]
    [TestCase(SslFramework.MoCoV3)]
    [TestCase(SslFramework.Byol)]
    public void Every_built_in_host_shares_its_first_two_views(SslFramework framework)
    {
        using var images = TestScenes.Tensor(36);

        var result = SpatialPretrainer.Train(images, Run(1) with { Framework = framework, BatchSize = 16 }, CPU);
        using var backbone = result.Backbone;

        result.History.Steps.Should().NotBeEmpty().And.OnlyContain(s => s.SpatialLoss > 0f && s.SpatialGradientNorm > 0f && float.IsFinite(s.HostLoss));
    }

    [Test]
    public void Without_a_host_SP_on_the_host_s_views_is_refused_with_the_reason()
    {
        var settings = new PretrainingSettings { Framework = SslFramework.None, SpatialPrediction = OnHostViews };

        FluentActions.Invoking(settings.Validate).Should().Throw<ArgumentException>().WithMessage("*OnHostViews needs a host objective*");
        FluentActions.Invoking(() => new SpatialPredictionPlugin(64, OnHostViews)).Should().Throw<ArgumentException>().WithMessage("*needs a host objective*");
    }
}
