using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Interop;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Backbones;

public class BatchNormFoldingTests
{
    /// <summary>A backbone whose batch norms are far from the identity: trained running statistics and random affine terms.</summary>
    private static SpatialBackbone WithRealisticBatchNorm(BackboneSpec spec)
    {
        var backbone = SpatialBackbone.CreateUntrained(spec, seed: 3);
        var module = backbone.Module;
        using var scope = NewDisposeScope();
        module.train();
        using (no_grad())
        {
            // Running statistics move towards those of brighter-than-uniform images, in a few train-mode passes.
            for (int i = 0; i < 3; i++) module.forward(rand(4, 3, spec.ImageSize, spec.ImageSize) * 0.5f + 0.4f);
            foreach (var bn in module.modules().OfType<BatchNorm2d>())
            {
                bn.weight!.copy_(rand_like(bn.weight) + 0.5f);
                bn.bias!.copy_(randn_like(bn.bias) * 0.1f);
            }
        }
        module.eval();
        return backbone;
    }

    [TestCase(BackboneKind.SmallResNet, 32)]
    [TestCase(BackboneKind.ResNet18, 64)]
    [TestCase(BackboneKind.ResNet50, 64)]
    [TestCase(BackboneKind.CntkResNet18, 64)]
    public void Folded_inference_copy_gives_the_features_of_the_module_and_has_no_batch_norm_left(BackboneKind kind, int size)
    {
        using var backbone = WithRealisticBatchNorm(new BackboneSpec(kind, Width: 16, ImageSize: size));
        using var scope = NewDisposeScope();
        var images = rand(3, 3, size, size);

        backbone.Featurization.FoldBatchNormForInference = false;
        var reference = backbone.Featurization.FeaturizeBatch(images);
        backbone.Featurization.FoldBatchNormForInference = true;
        var folded = backbone.Featurization.FeaturizeBatch(images);

        double scale = reference.Max(Math.Abs), maxDiff = reference.Zip(folded, (a, b) => (double)Math.Abs(a - b)).Max();
        TestContext.Out.WriteLine($"{kind}: max |folded − module| = {maxDiff:E2}, largest feature {scale:F3}");
        maxDiff.Should().BeLessThan(1e-5 * Math.Max(1, scale) * 10);
        backbone.Featurization.InferenceModule().modules().OfType<BatchNorm2d>().Should().BeEmpty();
        backbone.Module.modules().OfType<BatchNorm2d>().Should().NotBeEmpty("the saved module keeps its batch norms");
    }

    [Test]
    public void A_vision_transformer_has_nothing_to_fold_and_featurises_with_its_own_module()
    {
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.VitTiny, PatchSize: 8, ImageSize: 32));

        backbone.Featurization.InferenceModule().Should().BeSameAs(backbone.Module);
    }

    [Test]
    public void Importing_weights_drops_the_folded_copy_so_features_follow_the_new_weights()
    {
        var spec = new BackboneSpec(BackboneKind.SmallResNet, Width: 8, ImageSize: 32);
        using var backbone = WithRealisticBatchNorm(spec);
        using var other = WithRealisticBatchNorm(spec with { Width = 8 });
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            foreach (var p in other.Module.parameters()) p.add_(randn_like(p) * 0.1f);
        }
        var images = rand(2, 3, 32, 32);
        backbone.Featurization.FeaturizeBatch(images); // builds the folded copy of the old weights

        backbone.ImportWeights(other.Module.state_dict(), WeightNaming.Native, allowMissing: false, "test");

        other.Featurization.FoldBatchNormForInference = false;
        var expected = other.Featurization.FeaturizeBatch(images);
        backbone.Featurization.FeaturizeBatch(images).Zip(expected, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-4f);
    }
}
