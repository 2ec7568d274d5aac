using CustomObjective;
using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Objectives;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Objectives;

/// <summary>A host objective from outside the library (the CustomObjective sample's VICReg) through the public extension point.</summary>
public class CustomObjectiveTests : TemporaryFolderTest
{
    protected override string Prefix => "custom-objective-";

    private static SpatialPretrainOptions Options(bool spatialPrediction, Func<int, SelfSupervisedObjective>? objective = null) => new()
    {
        Framework = SslFramework.Custom,
        CustomObjective = objective ?? (dimension => new VicRegObjective(dimension)),
        ImageSize = TestScenes.ImageSize,
        BackboneWidth = 4,
        Epochs = 2,
        BatchSize = 16,
        ValidationFraction = 0,
        SpatialPrediction = new SpatialPredictionOptions { Enabled = spatialPrediction, LocalResolution = 16, HeadWidth = 32 },
    };

    [Test]
    public void VICReg_from_the_sample_trains_the_backbone_with_and_without_SP()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 48);

        var alone = mlContext.Transforms.SpatialPretrain(Options(spatialPrediction: false)).Fit(data);
        var withSp = mlContext.Transforms.SpatialPretrain(Options(spatialPrediction: true)).Fit(data);

        alone.TrainingHistory!.Steps.Should().NotBeEmpty().And.OnlyContain(s => float.IsFinite(s.HostLoss) && s.HostLoss > 0 && s.HostGradientNorm > 0)
            .And.OnlyContain(s => s.SpatialLoss == 0, "SP is off");
        withSp.TrainingHistory!.Steps.Should().NotBeEmpty().And.OnlyContain(s => float.IsFinite(s.HostLoss) && s.HostGradientNorm > 0 && s.SpatialLoss > 0 && s.SpatialGradientNorm > 0);
        // λ falls back to SimCLR's for a host of the user's own.
        withSp.TrainingHistory.Steps.Should().OnlyContain(s => s.SpatialWeight == SpatialPredictionOptions.DefaultWeight(SslFramework.SimClr));
        withSp.Backbone.TrainedWith.Should().Contain(typeof(VicRegObjective).FullName!);
        var a = alone.Transform(data).GetColumn<float[]>("Features").First();
        var b = withSp.Transform(data).GetColumn<float[]>("Features").First();
        a.Should().NotEqual(b, "SP's gradient changes the backbone");
    }

    [Test]
    public void Same_seed_gives_the_same_weights_and_the_same_fingerprint()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 32);

        var first = mlContext.Transforms.SpatialPretrain(Options(spatialPrediction: true)).Fit(data);
        var second = mlContext.Transforms.SpatialPretrain(Options(spatialPrediction: true)).Fit(data);

        first.Transform(data).GetColumn<float[]>("Features").SelectMany(f => f)
            .Should().Equal(second.Transform(data).GetColumn<float[]>("Features").SelectMany(f => f));
        first.Backbone.TrainedWith.Should().Be(second.Backbone.TrainedWith);
    }

    [Test]
    public void A_checkpoint_of_one_objective_is_not_resumed_by_another()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 32);
        var options = Options(spatialPrediction: false);
        options.CheckpointDirectory = Folder;
        mlContext.Transforms.SpatialPretrain(options).Fit(data);

        var other = Options(spatialPrediction: false, dimension => new MeanSquaredViews());
        other.CheckpointDirectory = Folder;
        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(other).Fit(data))
            .Should().Throw<InvalidOperationException>().WithMessage("*different settings*MeanSquaredViews*");
    }

    [Test]
    public void Misuse_is_refused_with_what_to_change()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 16);

        var missing = Options(false);
        missing.CustomObjective = null;
        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(missing)).Should().Throw<ArgumentException>().WithMessage("*Custom*CustomObjective is not set*");

        var notCustom = Options(false);
        notCustom.Framework = SslFramework.SimClr;
        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(notCustom)).Should().Throw<ArgumentException>().WithMessage("*Framework = SslFramework.Custom*");

        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(Options(false, _ => new MeanSquaredViews(viewCount: 1))).Fit(data))
            .Should().Throw<ArgumentException>().WithMessage("*MeanSquaredViews.ViewCount is 1*at least 2*");
        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(Options(false, _ => new MeanSquaredViews(perPicture: true))).Fit(data))
            .Should().Throw<InvalidOperationException>().WithMessage("*MeanSquaredViews.Loss must return one floating-point number*shape [16]*");
        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(Options(false, _ => null!)).Fit(data))
            .Should().Throw<InvalidOperationException>().WithMessage("*CustomObjective returned null*");
    }

    [Test]
    public void More_than_two_views_reach_the_loss_and_SP_can_train_on_the_first_two()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 32);
        MeanSquaredViews? built = null;
        var options = Options(true, _ => built = new MeanSquaredViews(viewCount: 3));
        options.SpatialPrediction.OnHostViews = true;

        var featurizer = mlContext.Transforms.SpatialPretrain(options).Fit(data);

        built!.SeenViewCounts.Should().NotBeEmpty().And.OnlyContain(n => n == 3);
        featurizer.TrainingHistory!.Steps.Should().OnlyContain(s => s.SpatialLoss > 0 && s.SpatialGradientNorm > 0);
    }

    /// <summary>Pulls every view's features towards the first view's: small, and shaped to test the extension point's checks.</summary>
    private sealed class MeanSquaredViews(int viewCount = 2, bool perPicture = false) : SelfSupervisedObjective(nameof(MeanSquaredViews))
    {
        public List<int> SeenViewCounts { get; } = new();

        public override int ViewCount => viewCount;

        public override Tensor Loss(IReadOnlyList<Tensor> views)
        {
            SeenViewCounts.Add(views.Count);
            var loss = views.Skip(1).Select(v => (v - views[0]).pow(2).mean(new long[] { 1 })).Aggregate((x, y) => x + y);
            return perPicture ? loss : loss.mean();
        }
    }
}
