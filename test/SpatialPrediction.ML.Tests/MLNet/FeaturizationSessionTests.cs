using Microsoft.ML;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Interop;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.MLNet;

public class FeaturizationSessionTests
{
    private static readonly BackboneSpec Spec = new(BackboneKind.SmallResNet, Width: 8, ImageSize: 32);

    private static SpatialFeaturizerTransformer Featurizer(SpatialBackbone backbone)
    {
        var mlContext = new MLContext(1);
        var data = SpatialScenes.ToDataView(mlContext, SpatialScenes.Generate(2, new SpatialScenesOptions { Seed = 1, ImageSize = 32 }));
        return mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { BatchSize = 2, Engine = FeaturizationEngine.LibTorch }).Fit(data);
    }

    [Test]
    public void Each_featuriser_keeps_its_own_copies_and_settings_over_one_backbone()
    {
        using var backbone = SpatialBackbone.CreateUntrained(Spec, seed: 2);
        var folded = Featurizer(backbone);
        var unfolded = Featurizer(backbone);
        unfolded.Session.FoldBatchNormForInference = false;
        using var scope = NewDisposeScope();
        var images = rand(2, 3, 32, 32);

        var a = folded.Session.FeaturizeBatch(images);
        var b = unfolded.Session.FeaturizeBatch(images);

        folded.Session.InferenceModule().Should().NotBeSameAs(backbone.Module, "this featuriser still folds");
        unfolded.Session.InferenceModule().Should().BeSameAs(backbone.Module);
        backbone.Featurization.InferenceModule().Should().NotBeSameAs(folded.Session.InferenceModule(), "every session makes its own copy");
        a.Zip(b, (x, y) => Math.Abs(x - y)).Max().Should().BeLessThan(1e-4f);
    }

    [Test]
    public void A_featuriser_follows_weights_imported_into_its_backbone()
    {
        using var backbone = SpatialBackbone.CreateUntrained(Spec, seed: 2);
        using var other = SpatialBackbone.CreateUntrained(Spec, seed: 5);
        var featurizer = Featurizer(backbone);
        using var scope = NewDisposeScope();
        var images = rand(2, 3, 32, 32);
        var before = featurizer.Session.FeaturizeBatch(images); // copies of the old weights

        backbone.ImportWeights(other.Module.state_dict(), WeightNaming.Native, allowMissing: false, "test");

        var expected = other.Featurization.FeaturizeBatch(images);
        var after = featurizer.Session.FeaturizeBatch(images);
        after.Zip(expected, (x, y) => Math.Abs(x - y)).Max().Should().BeLessThan(1e-5f);
        after.Should().NotEqual(before);
    }

    [Test]
    public void Disposing_the_backbone_closes_every_featuriser_over_it()
    {
        var backbone = SpatialBackbone.CreateUntrained(Spec, seed: 2);
        var featurizer = Featurizer(backbone);
        using var image = SpatialScenes.ToMLImage(SpatialScenes.Generate(1, new SpatialScenesOptions { Seed = 3, ImageSize = 32 })[0]);
        featurizer.Featurize(image).Should().HaveCount(backbone.FeatureDimension);

        backbone.Dispose();

        featurizer.Invoking(f => f.Featurize(image)).Should().Throw<ObjectDisposedException>();
        backbone.Invoking(b => b.Featurize(image)).Should().Throw<ObjectDisposedException>();
    }
}
