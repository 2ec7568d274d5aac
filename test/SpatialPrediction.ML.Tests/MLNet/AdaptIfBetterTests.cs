using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Evaluation;

namespace SpatialPrediction.ML.Tests.MLNet;

/// <summary>The never-worse entry point: adapt a starting backbone, or keep it frozen, whichever probes better on the user's labels.</summary>
public class AdaptIfBetterTests
{
    private static SpatialBackbone Starting() => SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 8, ImageSize: TestScenes.ImageSize));

    private static SpatialPretrainOptions Adaptation(SpatialBackbone starting, int epochs) => new()
    {
        InitialBackbone = starting,
        ImageSize = TestScenes.ImageSize,
        Epochs = epochs,
        BatchSize = 32,
        LearningRate = 3e-3,
        ValidationFraction = 0,
        SpatialPrediction = new SpatialPredictionOptions { Enabled = false },
    };

    [Test]
    public void Returns_the_featuriser_whose_cross_validated_probe_scores_higher()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 160, classCount: 4);
        using var starting = Starting();

        var choice = mlContext.Transforms.AdaptIfBetter(data, Adaptation(starting, epochs: 6), folds: 4);

        TestContext.Out.WriteLine(choice.ToString());
        choice.Adapted.Should().Be(choice.AdaptedAccuracy > choice.FrozenAccuracy);
        choice.AdaptedAccuracy.Should().NotBe(choice.FrozenAccuracy, "six epochs of training change the features");
        // Scored again from the outside on the same folds, the returned features are the better of the two.
        var labels = data.GetColumn<int>("Label").ToList();
        var features = choice.Featurizer.Transform(data).GetColumn<float[]>("Features").ToList();
        var (again, _) = CrossValidatedProbe.Accuracy(new MLContext(1), features, labels, 4, seed: 1);
        again.Should().BeApproximately(Math.Max(choice.AdaptedAccuracy, choice.FrozenAccuracy), 0.005);
        if (choice.Adapted) choice.Featurizer.Backbone.Dispose();
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Keeps_the_frozen_backbone_when_adapting_changes_nothing(bool spatialPyramid)
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 40, classCount: 4);
        using var starting = Starting();
        var adaptation = Adaptation(starting, epochs: 0);
        adaptation.SpatialPyramid = spatialPyramid;

        var choice = mlContext.Transforms.AdaptIfBetter(data, adaptation, folds: 4);

        // Both sides read the features the same way, so untrained weights tie exactly.
        choice.AdaptedAccuracy.Should().Be(choice.FrozenAccuracy, "zero epochs leave the starting weights as they were");
        choice.Adapted.Should().BeFalse("a tie keeps what the user already had");
        choice.Featurizer.Backbone.Should().BeSameAs(starting);
        choice.Featurizer.SpatialPyramid.Should().Be(spatialPyramid);
    }

    [Test]
    public void The_ImageNet_recipe_reads_the_features_as_a_spatial_pyramid()
    {
        using var starting = Starting();
        SpatialPretrainOptions.ImageNetAdaptation(starting).SpatialPyramid.Should().BeTrue("docs/imagenet-adaptation.md measured the recipe with it");
    }

    [Test]
    public void Bad_input_is_refused_with_what_to_change()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 8, classCount: 2);
        using var starting = Starting();

        FluentActions.Invoking(() => mlContext.Transforms.AdaptIfBetter(data, new SpatialPretrainOptions()))
            .Should().Throw<ArgumentException>().WithMessage("*InitialBackbone is not set*ImageNetAdaptation*");
        FluentActions.Invoking(() => mlContext.Transforms.AdaptIfBetter(data, Adaptation(starting, 0), labelColumnName: "Class"))
            .Should().Throw<ArgumentException>().WithMessage("*no column 'Class'*'Label'*");
        FluentActions.Invoking(() => mlContext.Transforms.AdaptIfBetter(data, Adaptation(starting, 0), folds: 5))
            .Should().Throw<ArgumentException>().WithMessage("*8 labelled rows are too few for 5-fold*");
    }
}
