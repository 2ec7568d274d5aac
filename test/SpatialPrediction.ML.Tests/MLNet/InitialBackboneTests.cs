using Microsoft.ML;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;

namespace SpatialPrediction.ML.Tests.MLNet;

[NonParallelizable]
public class InitialBackboneTests
{
    private static float[] Weights(SpatialBackbone backbone)
        => backbone.Module.state_dict().Where(p => p.Value.dtype == TorchSharp.torch.ScalarType.Float32)
            .OrderBy(p => p.Key, StringComparer.Ordinal).SelectMany(p => p.Value.cpu().data<float>().ToArray()).ToArray();

    [Test]
    public void Pretraining_continues_from_the_ImageNet_weights_and_leaves_them_unchanged()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 16);
        using var imageNet = SpatialBackbone.ImageNetResNet18();
        var before = Weights(imageNet);
        var options = new SpatialPretrainOptions
        {
            InitialBackbone = imageNet, Framework = SslFramework.SimClr, ImageSize = 64, Epochs = 0, BatchSize = 8, ValidationFraction = 0,
            Backbone = BackboneKind.SmallResNet, // ignored: the initial backbone's architecture wins
        };

        var untouched = mlContext.Transforms.SpatialPretrain(options).Fit(data);
        options.Epochs = 1;
        var continued = mlContext.Transforms.SpatialPretrain(options).Fit(data);

        untouched.Backbone.Kind.Should().Be(BackboneKind.CntkResNet18);
        untouched.Backbone.Spec.Normalization.Should().Be(InputNormalization.BgrMeanImage);
        Weights(untouched.Backbone).Should().Equal(before, "no step was taken");
        continued.TrainingHistory!.Steps.Should().HaveCount(2);
        var after = Weights(continued.Backbone);
        after.Zip(before, (a, b) => Math.Abs(a - b)).Max().Should().BeGreaterThan(0, "training moved the weights");
        Weights(imageNet).Should().Equal(before, "the initial backbone is copied, never changed");
        untouched.Backbone.Dispose();
        continued.Backbone.Dispose();
    }
}
