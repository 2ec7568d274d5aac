using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Evaluation;

namespace SpatialPrediction.ML.Tests.Evaluation;

public class DenseTests
{
    [Test]
    public void Segmentation_scores_equal_the_hand_computed_IoUs()
    {
        byte[] truth = { 0, 0, 1, 1, 2, 2 };
        byte[] predicted = { 0, 1, 1, 1, 2, 0 };

        var scores = SpatialEvaluation.ScoreSegmentation(truth, predicted, classCount: 4);

        scores.ClassIoU[0].Should().BeApproximately(1.0 / 3, 1e-12);
        scores.ClassIoU[1].Should().BeApproximately(2.0 / 3, 1e-12);
        scores.ClassIoU[2].Should().BeApproximately(0.5, 1e-12);
        double.IsNaN(scores.ClassIoU[3]).Should().BeTrue("class 3 appears nowhere and is left out of the mean");
        scores.MeanIoU.Should().BeApproximately(0.5, 1e-12);
        scores.PixelAccuracy.Should().BeApproximately(4.0 / 6, 1e-12);
    }

    [Test]
    public void Depth_scores_equal_the_hand_computed_values()
    {
        var scores = SpatialEvaluation.ScoreDepth(new[] { 1f, 2f, 4f }, new[] { 1f, 2.4f, 2f });

        scores.Rmse.Should().BeApproximately(Math.Sqrt((0 + 0.16 + 4) / 3), 1e-6);
        scores.AbsRel.Should().BeApproximately((0 + 0.2 + 0.5) / 3, 1e-6);
        scores.Delta125.Should().BeApproximately(2.0 / 3, 1e-12);
    }

    [Test]
    public void Metrics_reject_mismatched_inputs()
    {
        FluentActions.Invoking(() => SpatialEvaluation.ScoreSegmentation(new byte[] { 0, 1 }, new byte[] { 0 }, 2)).Should().Throw<ArgumentException>().WithMessage("*2 true labels but 1*");
        FluentActions.Invoking(() => SpatialEvaluation.ScoreDepth(new[] { 0f }, new[] { 1f })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*positive*");
    }

    [Test]
    public void An_oracle_map_of_the_truth_gets_near_perfect_dense_scores()
    {
        var scenes = SpatialScenes.Generate(24, new SpatialScenesOptions { ImageSize = 32, DistractorCount = 1 });
        var byPixels = scenes.ToDictionary(s => Convert.ToBase64String(s.Rgb), s => s);
        const int grid = 32, cell = 32 / grid; // one location per pixel: upsampling adds no error
        DenseFeaturizer oracle = images => images.Select(image =>
        {
            var pixels = image.Pixels.ToArray();
            var rgb = new byte[pixels.Length / 4 * 3];
            for (int p = 0, q = 0; p < pixels.Length; p += 4, q += 3) (rgb[q], rgb[q + 1], rgb[q + 2]) = (pixels[p], pixels[p + 1], pixels[p + 2]);
            var scene = byPixels[Convert.ToBase64String(rgb)];
            int channels = 10; // one-hot of the 9 segmentation labels + the cell's depth
            var values = new float[channels * grid * grid];
            for (int y = 0; y < grid; y++)
            for (int x = 0; x < grid; x++)
            {
                values[(scene.Mask[y * cell * 32 + x * cell] * grid + y) * grid + x] = 1;
                values[(9 * grid + y) * grid + x] = scene.Depth[y * cell * 32 + x * cell];
            }
            return new FeatureMap(channels, grid, grid, values);
        }).ToArray();
        var mlContext = new MLContext(1);

        var segmentation = SpatialEvaluation.SegmentationProbe(mlContext, oracle, scenes.Take(16).ToList(), scenes.Skip(16).ToList());
        var depth = SpatialEvaluation.DepthProbe(mlContext, oracle, scenes.Take(16).ToList(), scenes.Skip(16).ToList());

        TestContext.Out.WriteLine($"mIoU {segmentation.MeanIoU:F3}, pixel acc {segmentation.PixelAccuracy:F3}, RMSE {depth.Rmse:F3}, AbsRel {depth.AbsRel:F3}, δ {depth.Delta125:F3}");
        segmentation.PixelAccuracy.Should().BeGreaterThan(0.99);
        segmentation.MeanIoU.Should().BeGreaterThan(0.95);
        depth.Delta125.Should().BeGreaterThan(0.99);
        depth.AbsRel.Should().BeLessThan(0.02);
    }

    [Test]
    public void Dense_probes_run_on_a_featurizer_feature_map_column()
    {
        var mlContext = new MLContext(1);
        var scenes = SpatialScenes.Generate(8, new SpatialScenesOptions { ImageSize = 32 });
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { FeatureMapColumnName = "FeatureMap" })
            .Fit(SpatialScenes.ToDataView(mlContext, scenes.Take(1)));
        var dense = featurizer.AsDenseFeaturizer();

        var segmentation = SpatialEvaluation.SegmentationProbe(mlContext, dense, scenes.Take(5).ToList(), scenes.Skip(5).ToList());
        var depth = SpatialEvaluation.DepthProbe(mlContext, dense, scenes.Take(5).ToList(), scenes.Skip(5).ToList());

        using var other = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32), seed: 2);
        var otherFeaturizer = mlContext.Transforms.SpatialFeaturize(other, new SpatialFeaturizeOptions { FeatureMapColumnName = "FeatureMap" })
            .Fit(SpatialScenes.ToDataView(mlContext, scenes.Take(1)));
        var map = dense(new[] { SpatialScenes.ToMLImage(scenes[0]) })[0];
        using var pixels = SpatialPrediction.ML.MLNet.ImageColumn.ToTensor(SpatialScenes.ToMLImage(scenes[0]), 32, TorchSharp.torch.CPU, "Image", 0, "test");
        var (_, ownMap) = backbone.Featurization.FeaturizeBatchWithMap(pixels);

        map.Values.Should().Equal(ownMap, "the column holds the backbone's own feature map");
        (map.Channels, map.Height, map.Width).Should().Be(backbone.FeatureMapShape);
        SpatialEvaluation.DepthProbe(mlContext, dense, scenes.Take(5).ToList(), scenes.Skip(5).ToList()).Rmse.Should().Be(depth.Rmse, "the probe is deterministic");
        SpatialEvaluation.DepthProbe(mlContext, otherFeaturizer.AsDenseFeaturizer(), scenes.Take(5).ToList(), scenes.Skip(5).ToList()).Rmse
            .Should().NotBe(depth.Rmse, "the probe reads the features: other weights give another fit");
        segmentation.PixelAccuracy.Should().BeInRange(0, 1);
    }
}
