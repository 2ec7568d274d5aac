using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.MLNet;

public class SpatialPyramidTests
{
    // 40 px through the small ResNet's stride 8 gives a 5 × 5 map: the odd middle row and column belong to both halves.
    private const int Side = 40, Channels = 32, Grid = 5;

    private static SpatialBackbone Backbone() => SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: Side));

    [Test]
    public void Pyramid_features_are_the_usual_features_then_each_quadrants_average_of_the_map()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 5);
        using var backbone = Backbone();
        var plain = mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { FeatureMapColumnName = "Map", BatchSize = 2 }).Fit(data);
        var pyramid = mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { SpatialPyramid = true, BatchSize = 2 }).Fit(data);

        var plainOutput = plain.Transform(data);
        var usual = plainOutput.GetColumn<float[]>("Features").ToList();
        var maps = plainOutput.GetColumn<float[]>("Map").ToList();
        var output = pyramid.Transform(data);
        var features = output.GetColumn<float[]>("Features").ToList();

        pyramid.FeatureDimension.Should().Be(Channels * 5);
        ((VectorDataViewType)output.Schema["Features"].Type).Size.Should().Be(Channels * 5);
        ((VectorDataViewType)plainOutput.Schema["Map"].Type).Dimensions.Should().Equal(Channels, Grid, Grid);
        for (int row = 0; row < features.Count; row++)
        {
            // The plain features may come from another engine (Auto): equal to float rounding, not bit for bit.
            features[row].Take(Channels).Zip(usual[row], (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-5f);
            // The oracle: libtorch's adaptive average pooling of the same map to 2 × 2, quadrants in reading order.
            using var quadrants = nn.functional.adaptive_avg_pool2d(tensor(maps[row]).reshape(1, Channels, Grid, Grid), new long[] { 2, 2 });
            var expected = quadrants.reshape(Channels, 4).t().contiguous().data<float>().ToArray();
            for (int i = 0; i < expected.Length; i++)
                features[row][Channels + i].Should().BeApproximately(expected[i], 1e-5f, $"row {row}, quadrant {i / Channels}, channel {i % Channels}");
        }
    }

    [Test]
    public void One_image_and_a_batched_cursor_give_the_same_pyramid_and_the_setting_survives_saving()
    {
        var mlContext = new MLContext(1);
        var scenes = SpatialScenes.Generate(3, new SpatialScenesOptions { ImageSize = TestScenes.ImageSize, Seed = 1 });
        var data = SpatialScenes.ToDataView(mlContext, scenes);
        using var backbone = Backbone();
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { SpatialPyramid = true, BatchSize = 3 }).Fit(data);
        var batched = featurizer.Transform(data).GetColumn<float[]>("Features").ToList();
        using (var image = SpatialScenes.ToMLImage(scenes[0]))
            featurizer.Featurize(image).Zip(batched[0], (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-4f);

        string path = Path.Combine(Path.GetTempPath(), $"sp-pyramid-{Guid.NewGuid():N}.zip");
        try
        {
            mlContext.Model.Save(featurizer, data.Schema, path);
            var loaded = new MLContext(2).Model.Load(path, out _);
            ((SpatialFeaturizerTransformer)loaded).SpatialPyramid.Should().BeTrue();
            loaded.Transform(data).GetColumn<float[]>("Features").Zip(batched, (a, b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max()).Max()
                .Should().BeLessThanOrEqualTo(1e-6f);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Pretraining_hands_the_setting_to_its_featuriser_and_Onnx_export_refuses_it_clearly()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 4);
        using var start = Backbone();
        var featurizer = mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions { InitialBackbone = start, ImageSize = Side, Epochs = 0, SpatialPyramid = true }).Fit(data);
        try
        {
            featurizer.SpatialPyramid.Should().BeTrue();
            featurizer.FeatureDimension.Should().Be(Channels * 5);
            featurizer.Transform(data).GetColumn<float[]>("Features").First().Should().HaveCount(Channels * 5);
            var export = () => featurizer.ToOnnxEstimator(mlContext, Path.Combine(Path.GetTempPath(), $"sp-pyramid-{Guid.NewGuid():N}.onnx"));
            export.Should().Throw<NotSupportedException>().WithMessage("*SpatialPyramid*");
        }
        finally
        {
            featurizer.Backbone.Dispose();
        }
    }
}
