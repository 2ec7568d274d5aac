using System.Diagnostics;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Training;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Training;

public class TrainingEngineTests
{
    private static PretrainingSettings Tiny() => new()
    {
        Framework = SslFramework.SimClr,
        BackboneWidth = 4,
        ImageSize = TestScenes.ImageSize,
        Epochs = 2,
        BatchSize = 8,
        ValidationFraction = 0,
        SpatialPrediction = new SpatialPredictionSettings { LocalResolution = 16, HeadWidth = 16 },
    };

    [Test]
    public void Gradient_accumulation_takes_one_optimiser_step_per_group_of_micro_batches()
    {
        using var images = TestScenes.Tensor(64);

        var result = SpatialPretrainer.Train(images, Tiny() with { GradientAccumulationSteps = 4 }, CPU);
        result.Backbone.Dispose();

        result.History.Steps.Should().HaveCount(2 * (64 / 8) / 4);
    }

    [Test]
    public void Prefetching_on_a_loader_thread_gives_the_same_run_as_preparing_batches_inline()
    {
        using var images = TestScenes.Tensor(48);

        var threaded = SpatialPretrainer.Train(images, Tiny() with { PrefetchBatches = 3 }, CPU);
        var inline = SpatialPretrainer.Train(images, Tiny() with { PrefetchBatches = 0 }, CPU);
        threaded.Backbone.Dispose();
        inline.Backbone.Dispose();

        threaded.History.Steps.Select(s => s.TotalLoss).Should().Equal(inline.History.Steps.Select(s => s.TotalLoss));
    }

    [Test]
    public void Weight_decay_follows_its_cosine_schedule_from_start_to_final_value()
    {
        var schedule = new CosineSchedule(0.04, TotalSteps: 10, WarmupSteps: 0, FinalFraction: 0.4 / 0.04);

        schedule.At(0).Should().BeApproximately(0.04, 1e-12);
        schedule.At(10).Should().BeApproximately(0.4, 1e-12);
    }

    [Test]
    public void Unsuitable_view_size_for_a_ViT_is_reported_with_the_option_and_the_rule()
    {
        using var images = TestScenes.Tensor(8);
        var settings = Tiny() with { Backbone = SpatialPrediction.ML.Backbones.BackboneKind.VitTiny, PatchSize = 6 };

        FluentActions.Invoking(() => SpatialPretrainer.Train(images, settings, CPU))
            .Should().Throw<ArgumentException>().WithMessage("*ImageSize*multiple*6*");
    }

    [Test]
    public void Poisoned_images_stop_training_with_a_diagnostic_instead_of_writing_NaN_weights()
    {
        using var images = TestScenes.Tensor(32).to_type(ScalarType.Float32) / 255f;
        images[3, 0, 5, 5] = tensor(float.NaN);
        string directory = Directory.CreateTempSubdirectory("sp-nan-").FullName;
        try
        {
            FluentActions.Invoking(() => SpatialPretrainer.Train(images, Tiny() with { CheckpointDirectory = directory, CheckpointEverySteps = 1 }, CPU))
                .Should().Throw<TrainingDivergedException>().WithMessage("*diverged at step*host*SP*NaN*");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
