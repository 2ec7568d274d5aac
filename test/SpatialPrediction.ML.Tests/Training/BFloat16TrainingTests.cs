using SpatialPrediction.ML.Machine;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Training;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Training;

public class BFloat16TrainingTests
{
    // bfloat16 convolutions without BF16 instructions run on oneDNN's slow reference kernels: ResNet-18 trains two steps
    // of 8 pictures here so the test stays short on such processors.
    private static PretrainingSettings Settings(BackboneKind kind, ComputePrecision precision, int batchSize = 16) => new()
    {
        Framework = SslFramework.SimClr,
        Backbone = kind,
        BackboneWidth = 8,
        ImageSize = 32,
        Epochs = 1,
        BatchSize = batchSize,
        ValidationFraction = 0,
        Seed = 3,
        TrainingPrecision = precision,
        ConvolutionLayout = ConvolutionLayout.ChannelsFirst, // no timed layout calibration of bfloat16 passes
        SpatialPrediction = new SpatialPredictionSettings { LocalResolution = 32, HeadWidth = 32 },
    };

    [TestCase(BackboneKind.ResNet18, 8)]
    [TestCase(BackboneKind.SmallResNet, 16)]
    public void BFloat16_training_updates_float32_master_weights_and_statistics_and_tracks_float32(BackboneKind kind, int batchSize)
    {
        using var images = TestScenes.Tensor(2 * batchSize);
        var fp32 = SpatialPretrainer.Train(images, Settings(kind, ComputePrecision.Float32, batchSize), CPU);
        var log = new List<string>();
        var bf16 = SpatialPretrainer.Train(images, Settings(kind, ComputePrecision.BFloat16, batchSize) with { Log = log.Add }, CPU);
        using var fp32Backbone = fp32.Backbone;
        using var bf16Backbone = bf16.Backbone;
        manual_seed(3);
        using var untrained = BackboneFactory.Create(Settings(kind, ComputePrecision.Float32, batchSize).BackboneSpec);

        bf16Backbone.state_dict().Values.Where(t => t.is_floating_point()).Should().OnlyContain(t => t.dtype == ScalarType.Float32,
            "the master weights and statistics stay float32");
        var trained = bf16Backbone.state_dict();
        var start = untrained.state_dict();
        var moved = trained.Keys.Where(k => k.EndsWith("weight", StringComparison.Ordinal)).Count(k => !trained[k].allclose(start[k]));
        moved.Should().BeGreaterThan(trained.Keys.Count(k => k.EndsWith("weight", StringComparison.Ordinal)) / 2, "the optimiser updated the master weights");
        trained.Where(t => t.Key.EndsWith("running_mean", StringComparison.Ordinal)).Should().Contain(t => !t.Value.allclose(start[t.Key]),
            "the working copy's batch-norm statistics reach the master");

        // The same first batch: bfloat16 rounds (so the losses differ) but stays close to float32.
        float first32 = fp32.History.Steps[0].TotalLoss, first16 = bf16.History.Steps[0].TotalLoss;
        first16.Should().NotBe(first32, "the backbone really computed in bfloat16");
        Math.Abs(first16 - first32).Should().BeLessThan(0.02f * Math.Abs(first32));
        bf16.History.Steps.Should().OnlyContain(s => float.IsFinite(s.TotalLoss) && float.IsFinite(s.HostGradientNorm) && float.IsFinite(s.SpatialGradientNorm));
        log.Any(l => l.StartsWith("Warning: bfloat16 training", StringComparison.Ordinal)).Should().Be(BFloat16Kernels.SlowerOn(CPU) is not null,
            "a CPU where bfloat16 runs slower is named in a warning, and one where it pays is not");
    }

    [Test]
    public void The_precision_is_part_of_the_fingerprint_so_a_float32_checkpoint_never_resumes_a_bfloat16_run()
        => Settings(BackboneKind.SmallResNet, ComputePrecision.BFloat16).Fingerprint()
            .Should().NotBe(Settings(BackboneKind.SmallResNet, ComputePrecision.Float32).Fingerprint());
}
