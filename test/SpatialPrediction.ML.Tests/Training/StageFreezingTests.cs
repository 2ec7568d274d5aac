using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Training;

/// <summary>Continued pretraining's options: frozen stages, frozen batch-norm statistics, re-estimated statistics, the pull toward the starting weights.</summary>
public class StageFreezingTests
{
    private static readonly BackboneSpec Spec = new(BackboneKind.SmallResNet, 8, ImageSize: TestScenes.ImageSize);

    private static PretrainingSettings Continued(BackboneModule initial) => new()
    {
        Framework = SslFramework.SimClr,
        BackboneWidth = 8,
        ImageSize = TestScenes.ImageSize,
        Epochs = 2,
        BatchSize = 16,
        LearningRate = 1e-2,
        InitialBackbone = initial,
        InitialBackboneOrigin = "test",
        SpatialPredictionEnabled = false,
    };

    private static Dictionary<string, Tensor> Snapshot(nn.Module module)
        => module.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());

    [Test]
    public void Frozen_stages_keep_their_weights_and_statistics_while_later_stages_train()
    {
        using var initial = BackboneFactory.Create(Spec);
        var before = Snapshot(initial);
        using var images = TestScenes.Tensor(48);

        var result = SpatialPretrainer.Train(images, Continued(initial) with { FrozenStages = 2 }, CPU);
        using var trained = result.Backbone;
        var after = trained.state_dict();

        // Stage 0 is the stem ("stem.*"), stage 1 the first block ("stages.0.*").
        var frozen = after.Keys.Where(k => k.StartsWith("stem.") || k.StartsWith("stages.0.")).ToList();
        var training = after.Keys.Where(k => k.StartsWith("stages.3.") && k.EndsWith("weight")).ToList();
        frozen.Should().NotBeEmpty();
        training.Should().NotBeEmpty();
        foreach (var key in frozen) after[key].allclose(before[key], rtol: 0, atol: 0).Should().BeTrue($"{key} is in a frozen stage");
        training.Should().Contain(k => !after[k].allclose(before[k], rtol: 0, atol: 0), "the last stage trains");
    }

    [Test]
    public void Frozen_batch_norm_statistics_stay_as_they_started()
    {
        using var initial = BackboneFactory.Create(Spec);
        var before = Snapshot(initial);
        using var images = TestScenes.Tensor(48);

        var result = SpatialPretrainer.Train(images, Continued(initial) with { FreezeBatchNormStatistics = true }, CPU);
        using var trained = result.Backbone;
        var after = trained.state_dict();

        var statistics = after.Keys.Where(k => k.EndsWith("running_mean") || k.EndsWith("running_var")).ToList();
        statistics.Should().NotBeEmpty();
        foreach (var key in statistics) after[key].allclose(before[key], rtol: 0, atol: 0).Should().BeTrue($"{key} is a frozen statistic");
        after.Keys.Where(k => k.EndsWith("weight")).Should().Contain(k => !after[k].allclose(before[k], rtol: 0, atol: 0), "the weights still train");
    }

    [Test]
    public void Re_estimated_statistics_of_the_stem_are_the_exact_mean_of_its_convolution_over_the_training_images()
    {
        using var initial = BackboneFactory.Create(Spec);
        using var images = TestScenes.Tensor(40);
        var settings = Continued(initial) with { Epochs = 0, RecalibrateBatchNorm = true, ValidationFraction = 0, BatchSize = 8 };

        var result = SpatialPretrainer.Train(images, settings, CPU);
        using var trained = result.Backbone;

        var stem = (Sequential)trained.Stages[0][0];
        var convolution = (Conv2d)stem.children().First();
        var norm = (BatchNorm2d)stem.children().ElementAt(1);
        using var noGrad = no_grad();
        var input = images.to_type(ScalarType.Float32) / 255f;
        var mean = tensor(new[] { 0.485f, 0.456f, 0.406f }).reshape(1, 3, 1, 1);
        var std = tensor(new[] { 0.229f, 0.224f, 0.225f }).reshape(1, 3, 1, 1);
        var expected = convolution.forward((input - mean) / std).mean(new long[] { 0, 2, 3 });
        norm.running_mean!.allclose(expected, rtol: 1e-4, atol: 1e-5).Should().BeTrue(
            "the running mean should be the exact mean of the stem convolution's output over all training images");
    }

    [Test]
    public void Freezing_every_stage_is_refused_with_the_count_the_backbone_has()
    {
        using var initial = BackboneFactory.Create(Spec);
        using var images = TestScenes.Tensor(8);

        FluentActions.Invoking(() => SpatialPretrainer.Train(images, Continued(initial) with { FrozenStages = 5 }, CPU))
            .Should().Throw<ArgumentException>().WithMessage("*FrozenStages = 5*5 stages*at most 4*");
    }

    [Test]
    public void Freezing_stages_of_a_ViT_is_refused_naming_the_backbones_that_support_it()
    {
        using var images = TestScenes.Tensor(8);
        var settings = new PretrainingSettings
        {
            Backbone = BackboneKind.VitTiny, PatchSize = 8, ImageSize = TestScenes.ImageSize, Epochs = 1, BatchSize = 4, FrozenStages = 1,
            SpatialPredictionEnabled = false,
        };

        FluentActions.Invoking(() => SpatialPretrainer.Train(images, settings, CPU))
            .Should().Throw<ArgumentException>().WithMessage("*FrozenStages = 1*VitTiny*does not define stages*");
    }

    [Test]
    public void The_anchor_adds_alpha_times_the_distance_from_the_start_to_each_gradient()
    {
        using var weight = new Parameter(tensor(new[] { 1f, 2f }));
        using var bare = new Parameter(tensor(new[] { 3f }));
        using var anchor = new StartingPointAnchor(new[] { weight, bare }, strength: 0.5);
        using (no_grad())
        {
            weight.add_(tensor(new[] { 0.4f, -2f }));
            bare.add_(tensor(new[] { 1f }));
        }
        weight.grad = tensor(new[] { 10f, 10f });

        anchor.AddGradient();

        weight.grad!.data<float>().ToArray().Should().Equal(new[] { 10.2f, 9f }, (a, b) => Math.Abs(a - b) < 1e-6f);
        bare.grad!.data<float>().ToArray().Should().Equal(new[] { 0.5f }, "a weight without a gradient gets the pull alone");
        anchor.Distance().Should().BeApproximately(Math.Sqrt(0.16 + 4 + 1), 1e-5);
    }

    [Test]
    public void A_starting_point_penalty_keeps_the_trained_weights_nearer_the_initial_ones()
    {
        using var initial = BackboneFactory.Create(Spec);
        var before = Snapshot(initial);
        using var images = TestScenes.Tensor(48);
        double Moved(double penalty)
        {
            var result = SpatialPretrainer.Train(images, Continued(initial) with { StartingPointPenalty = penalty, FrozenStages = 2, Epochs = 1 }, CPU);
            using var trained = result.Backbone;
            return Math.Sqrt(trained.state_dict().Where(p => p.Key.StartsWith("stages.3.") && p.Key.EndsWith("weight"))
                .Sum(p => (p.Value - before[p.Key]).square().sum().item<float>()));
        }

        double free = Moved(0), anchored = Moved(100);

        free.Should().BeGreaterThan(0);
        anchored.Should().BeLessThan(0.8 * free, "α = 100 pulls each step back toward the start");
        Settings(initial).Fingerprint().Should().NotBe((Settings(initial) with { StartingPointPenalty = 1 }).Fingerprint());
        static PretrainingSettings Settings(BackboneModule initial) => Continued(initial);
    }

    [Test]
    public void A_starting_point_penalty_without_starting_weights_is_refused()
    {
        using var images = TestScenes.Tensor(8);
        var settings = Continued(null!) with { InitialBackbone = null, StartingPointPenalty = 0.1 };

        FluentActions.Invoking(() => SpatialPretrainer.Train(images, settings, CPU))
            .Should().Throw<ArgumentException>().WithMessage("*StartingPointPenalty = 0.1*set InitialBackbone*");
        FluentActions.Invoking(() => SpatialPretrainer.Train(images, settings with { StartingPointPenalty = -1 }, CPU))
            .Should().Throw<ArgumentException>().WithMessage("*StartingPointPenalty must be 0*");
    }
}
