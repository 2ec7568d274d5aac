using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Training;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Training;

/// <summary>Per-term gradient norms, clipping, λ warm-up and SP's gradient scale, as every run's history records them.</summary>
public class TrainingDiagnosticsTests
{
    private static PretrainingSettings Run() => new()
    {
        Framework = SslFramework.SimClr,
        BackboneWidth = 8,
        ImageSize = TestScenes.ImageSize,
        Epochs = 2,
        BatchSize = 16,
        LearningRate = 3e-3,
        GradientClipNorm = 0,
        SpatialPrediction = new SpatialPredictionSettings { LocalResolution = 16, HeadWidth = 32 },
    };

    private static PretrainingHistory Train(PretrainingSettings settings, int images = 48)
    {
        using var data = TestScenes.Tensor(images);
        var result = SpatialPretrainer.Train(data, settings, CPU);
        result.Backbone.Dispose();
        return result.History;
    }

    [Test]
    public void Each_step_records_the_host_and_SP_gradient_norms_and_they_add_up_to_at_most_the_whole()
    {
        var history = Train(Run());

        history.Steps.Should().NotBeEmpty().And.OnlyContain(s => s.HostGradientNorm > 0 && s.SpatialGradientNorm > 0 && s.GradientNorm > 0);
        // The whole gradient includes the heads, so it is at least the backbone's part of either term alone minus the other.
        history.Steps.Should().OnlyContain(s => s.GradientNorm + 1e-4f >= Math.Abs(s.HostGradientNorm - s.SpatialGradientNorm));
        history.Steps.Should().OnlyContain(s => !s.Clipped && s.SpatialWeight == 0.5f);
        double.IsFinite(history.MedianSpatialToHostGradientRatio).Should().BeTrue();
    }

    [Test]
    public void SP_with_its_backbone_gradient_scaled_to_zero_sends_nothing_into_the_backbone()
    {
        var settings = Run() with { SpatialPrediction = Run().SpatialPrediction with { BackboneGradientScale = 0f } };

        var history = Train(settings);

        history.Steps.Should().OnlyContain(s => s.SpatialGradientNorm == 0f && s.HostGradientNorm > 0f);
        history.Steps.Should().OnlyContain(s => s.SpatialLoss > 0f, "the head still trains on SP's loss");
    }

    [Test]
    public void Halving_SPs_backbone_gradient_halves_its_norm_on_the_first_step()
    {
        var whole = Train(Run()).Steps[0];
        var half = Train(Run() with { SpatialPrediction = Run().SpatialPrediction with { BackboneGradientScale = 0.5f } }).Steps[0];

        half.SpatialGradientNorm.Should().BeApproximately(whole.SpatialGradientNorm / 2, whole.SpatialGradientNorm * 1e-3f);
        half.HostGradientNorm.Should().BeApproximately(whole.HostGradientNorm, whole.HostGradientNorm * 1e-4f);
    }

    [Test]
    public void Lambda_warms_up_from_zero_and_reaches_its_value()
    {
        var settings = Run() with { SpatialPredictionWeight = 2f, SpatialPredictionWarmupFraction = 0.5, Epochs = 4 };

        var history = Train(settings);

        history.Steps[0].SpatialWeight.Should().Be(0f);
        history.Steps[0].SpatialGradientNorm.Should().Be(0f);
        history.Steps.Select(s => s.SpatialWeight).Should().BeInAscendingOrder();
        history.Steps[^1].SpatialWeight.Should().Be(2f);
        history.Steps.Should().OnlyContain(s => Math.Abs(s.TotalLoss - (s.HostLoss + s.SpatialWeight * s.SpatialLoss)) < 1e-3f);
    }

    [Test]
    public void A_tiny_clip_clips_every_step_and_the_history_says_so()
    {
        var history = Train(Run() with { GradientClipNorm = 1e-6 });

        history.Steps.Should().OnlyContain(s => s.Clipped);
        history.ClippedStepShare.Should().Be(1.0);
        Train(Run() with { GradientClipNorm = 1e6 }).ClippedStepShare.Should().Be(0.0);
    }

    [Test]
    public void Without_SP_the_SP_gradient_norm_is_not_a_number()
    {
        var history = Train(Run() with { SpatialPredictionEnabled = false });

        history.Steps.Should().OnlyContain(s => float.IsNaN(s.SpatialGradientNorm) && s.HostGradientNorm > 0 && s.SpatialWeight == 0f);
        double.IsNaN(history.MedianSpatialToHostGradientRatio).Should().BeTrue();
    }
}

/// <summary>One global clip against a clip per part (backbone, host heads, SP head).</summary>
public class GradientClippingTests
{
    private static TorchSharp.Modules.Parameter WithGradient(float value, int count)
    {
        var parameter = new TorchSharp.Modules.Parameter(zeros(count));
        parameter.grad = full(count, value);
        return parameter;
    }

    [Test]
    public void Per_part_clipping_leaves_a_small_part_alone_while_a_global_clip_scales_it_down()
    {
        // Part norms: 30 (100 values of 3) and 0.4 (4 values of 0.2); limit 1.
        var big = WithGradient(3f, 100);
        var small = WithGradient(0.2f, 4);
        var parts = new[] { new[] { big }, new[] { small } };
        var settings = new PretrainingSettings { GradientClipNorm = 1, ClipGradientPerPart = true };

        var (norm, clipped) = SpatialPretrainer.Clip(settings, new[] { big, small }, parts);
        clipped.Should().BeTrue();
        norm.Should().BeApproximately(MathF.Sqrt(900f + 0.16f), 1e-3f, "the whole gradient's norm before clipping");

        GradientNorms.Norm(new[] { big }).Should().BeApproximately(1f, 1e-3f);
        GradientNorms.Norm(new[] { small }).Should().BeApproximately(0.4f, 1e-5f);

        var big2 = WithGradient(3f, 100);
        var small2 = WithGradient(0.2f, 4);
        var (globalNorm, globalClipped) = SpatialPretrainer.Clip(settings with { ClipGradientPerPart = false }, new[] { big2, small2 },
            new[] { new[] { big2 }, new[] { small2 } });
        globalClipped.Should().BeTrue();
        globalNorm.Should().BeApproximately(MathF.Sqrt(900f + 0.16f), 1e-3f, "the whole gradient's norm before clipping");
        GradientNorms.Norm(new[] { big2, small2 }).Should().BeApproximately(1f, 1e-3f);
        GradientNorms.Norm(new[] { small2 }).Should().BeLessThan(0.02f, "the global clip scaled the small part by 1/30 too");
    }
}
