using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Training;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Training;

public class SpatialPretrainerTests
{
    private static PretrainingSettings ShortRun(int seed = 1) => new()
    {
        Framework = SslFramework.SimClr,
        BackboneWidth = 8,
        ImageSize = TestScenes.ImageSize,
        Epochs = 8,
        BatchSize = 32,
        LearningRate = 3e-3,
        Seed = seed,
        SpatialPrediction = new SpatialPredictionSettings { LocalResolution = 16, HeadWidth = 64 },
        SpatialPredictionWeight = 1f, // total = host + SP, as the first test checks
    };

    [Test]
    public void A_short_SimCLR_plus_SP_run_lowers_both_the_host_and_the_SP_loss()
    {
        using var images = TestScenes.Tensor(192);

        var result = SpatialPretrainer.Train(images, ShortRun(), CPU);
        using var backbone = result.Backbone;
        var history = result.History;

        history.Steps.Should().HaveCount(8 * (173 / 32));
        history.MeanOfLast(8, s => s.HostLoss).Should().BeLessThan(history.MeanOfFirst(8, s => s.HostLoss) - 0.1f);
        history.MeanOfLast(8, s => s.SpatialLoss).Should().BeLessThan(history.MeanOfFirst(8, s => s.SpatialLoss) - 0.02f);
        float.IsFinite(history.SpatialValidationLossBefore).Should().BeTrue();
        float.IsFinite(history.SpatialValidationLossAfter).Should().BeTrue();
        history.Steps.Should().OnlyContain(s => Math.Abs(s.TotalLoss - (s.HostLoss + s.SpatialLoss)) < 1e-3f);
    }

    [Test]
    public void Same_seed_on_the_cpu_gives_identical_weights()
    {
        using var images = TestScenes.Tensor(96);
        var settings = ShortRun() with { Epochs = 2 };

        var first = SpatialPretrainer.Train(images, settings, CPU);
        var second = SpatialPretrainer.Train(images, settings, CPU);
        using var a = first.Backbone;
        using var b = second.Backbone;

        var stateA = a.state_dict();
        var stateB = b.state_dict();
        stateA.Keys.Should().Equal(stateB.Keys);
        foreach (var key in stateA.Keys) stateA[key].allclose(stateB[key], rtol: 0, atol: 0).Should().BeTrue($"parameter {key} should match");
        first.History.Steps.Select(s => s.TotalLoss).Should().Equal(second.History.Steps.Select(s => s.TotalLoss));
    }

    [Test]
    public void With_SP_off_no_SP_loss_is_computed_and_the_host_still_trains()
    {
        using var images = TestScenes.Tensor(96);
        var settings = ShortRun() with { Epochs = 2, SpatialPredictionEnabled = false };

        var result = SpatialPretrainer.Train(images, settings, CPU);
        using var backbone = result.Backbone;

        result.History.Steps.Should().NotBeEmpty().And.OnlyContain(s => s.SpatialLoss == 0f && s.HostLoss > 0f);
        float.IsNaN(result.History.SpatialValidationLossAfter).Should().BeTrue();
    }

    [Test]
    public void Nothing_to_train_is_rejected_before_any_work()
    {
        using var images = TestScenes.Tensor(8);
        var settings = ShortRun() with { Framework = SslFramework.None, SpatialPredictionEnabled = false };

        FluentActions.Invoking(() => SpatialPretrainer.Train(images, settings, CPU))
            .Should().Throw<ArgumentException>().WithMessage("*Framework is None*Spatial Prediction is off*");
    }

    [Test]
    public void Cancellation_stops_training_between_steps()
    {
        using var images = TestScenes.Tensor(96);
        using var cancellation = new CancellationTokenSource();
        int steps = 0;
        var settings = ShortRun() with
        {
            Progress = new SynchronousProgress<PretrainingProgress>(_ => { if (++steps == 2) cancellation.Cancel(); }),
            CancellationToken = cancellation.Token,
        };

        FluentActions.Invoking(() => SpatialPretrainer.Train(images, settings, CPU)).Should().Throw<OperationCanceledException>();
        steps.Should().Be(2);
    }
}
