using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Evaluation;
using SpatialPrediction.ML.Spatial;

namespace SpatialPrediction.ML.Tests.Evaluation;

public class PatchPairSpatialTestTests
{
    /// <summary>An image whose red channel is x and green channel is y (0–255 across the image).</summary>
    private static MLImage CoordinateImage(int size = 128)
    {
        var rgba = new byte[size * size * 4];
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
        {
            int p = (y * size + x) * 4;
            rgba[p] = (byte)Math.Round(255.0 * (x + 0.5) / size);
            rgba[p + 1] = (byte)Math.Round(255.0 * (y + 0.5) / size);
            rgba[p + 3] = 255;
        }
        return MLImage.CreateFromPixels(size, size, MLPixelFormat.Rgba32, rgba);
    }

    /// <summary>Reads the patch's own geometry from its colours: centre from the mean, log size from the range.</summary>
    private static float[][] OracleFeaturizer(IReadOnlyList<MLImage> patches) => patches.Select(patch =>
    {
        var pixels = patch.Pixels.ToArray();
        var red = Enumerable.Range(0, pixels.Length / 4).Select(i => pixels[4 * i] / 255f).ToArray();
        var green = Enumerable.Range(0, pixels.Length / 4).Select(i => pixels[4 * i + 1] / 255f).ToArray();
        return new[] { red.Average(), green.Average(), MathF.Log(red.Max() - red.Min()), MathF.Log(green.Max() - green.Min()) };
    }).ToArray();

    private static readonly PatchPairOptions OracleOptions = new() { PairsPerImage = 24, Targets = TargetParameterization.ImageNormalized };

    [Test]
    public void An_oracle_featurizer_that_encodes_the_geometry_gets_R_squared_near_one()
    {
        var images = Enumerable.Range(0, 6).Select(_ => CoordinateImage()).ToList();

        var report = SpatialEvaluation.PatchPairTest(OracleFeaturizer, images, OracleOptions);

        TestContext.Out.WriteLine(string.Join(", ", report.Targets.Select(t => $"{t.Target} R² {t.RSquared:F4} MAE {t.MeanAbsoluteError:F4}")));
        report.Targets.Should().OnlyContain(t => t.RSquared > 0.97);
        report.TrainingPairs.Should().Be(72);
        report.TestPairs.Should().Be(72);
    }

    [Test]
    public void A_sampler_that_mirrors_pairs_still_scores_the_patches_in_the_frame_they_are_cut_in()
    {
        var images = Enumerable.Range(0, 6).Select(_ => CoordinateImage()).ToList();
        var options = OracleOptions with { Sampler = new SpatialViewPairSampler { MirrorProbability = 0.5f } };

        var report = SpatialEvaluation.PatchPairTest(OracleFeaturizer, images, options);

        // The patches are cut unmirrored; targets of the mirrored frame would flip dx for half the pairs (R² near 0).
        report.Targets.Should().OnlyContain(t => t.RSquared > 0.97);
    }

    [Test]
    public void A_constant_featurizer_gets_R_squared_near_zero()
    {
        var images = Enumerable.Range(0, 6).Select(_ => CoordinateImage()).ToList();

        // More pairs than the oracle needs: a constant predictor's R² on held-out pairs is ≤ 0, by the gap between the
        // two halves' target means, which shrinks with the number of pairs.
        var report = SpatialEvaluation.PatchPairTest(patches => patches.Select(_ => new[] { 1f, 2f }).ToArray(), images,
            OracleOptions with { PairsPerImage = 96 });

        TestContext.Out.WriteLine(string.Join(", ", report.Targets.Select(t => $"{t.Target} R² {t.RSquared:F4}")));
        report.Targets.Should().OnlyContain(t => t.RSquared <= 0 && t.RSquared > -0.1);
    }

    [Test]
    public void Runs_on_an_ML_NET_featurizer_through_the_transformer_adapter()
    {
        var mlContext = new MLContext(1);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        var scenes = SpatialScenes.Generate(4, new SpatialScenesOptions { ImageSize = 64 });
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone).Fit(SpatialScenes.ToDataView(mlContext, scenes.Take(1)));

        var report = SpatialEvaluation.PatchPairTest(featurizer.AsImageFeaturizer(),
            scenes.Select(SpatialScenes.ToMLImage).ToList(), new PatchPairOptions { PairsPerImage = 6 });

        report.Targets.Select(t => t.Target).Should().Equal("dx", "dy", "log_w", "log_h");
        report.Targets.Should().OnlyContain(t => double.IsFinite(t.RSquared) && double.IsFinite(t.MeanAbsoluteError));
    }

    [Test]
    public void The_adapter_names_a_missing_output_column()
    {
        var mlContext = new MLContext(1);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone).Fit(TestScenes.DataView(mlContext, 1));

        FluentActions.Invoking(() => featurizer.AsImageFeaturizer(outputColumnName: "Embedding")(new[] { CoordinateImage(32) }))
            .Should().Throw<ArgumentException>().WithMessage("*no column 'Embedding'*'Features'*");
    }

    [Test]
    public void At_a_side_the_backbone_reads_pictures_at_that_side_and_at_its_own_side_matches_the_transformer()
    {
        var mlContext = new MLContext(1);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone).Fit(TestScenes.DataView(mlContext, 1));
        var images = new[] { CoordinateImage(16), CoordinateImage(48) };

        var own = backbone.AsImageFeaturizer(32)(images);
        var viaTransformer = featurizer.AsImageFeaturizer()(images);
        var small = backbone.AsImageFeaturizer(16)(images);

        for (int i = 0; i < images.Length; i++)
            own[i].Zip(viaTransformer[i], (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-4f, "the same resize and the same backbone");
        small.Should().HaveCount(2).And.OnlyContain(f => f.Length == backbone.FeatureDimension);
        small[1].Zip(own[1], (a, b) => Math.Abs(a - b)).Max().Should().BeGreaterThan(1e-3f, "a 16 px picture is not the 32 px one");
        FluentActions.Invoking(() => backbone.AsImageFeaturizer(7)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*SmallResNet*7 px*");
    }
}
