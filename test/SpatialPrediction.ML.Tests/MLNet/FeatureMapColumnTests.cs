using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;

namespace SpatialPrediction.ML.Tests.MLNet;

public class FeatureMapColumnTests
{
    [Test]
    public void CNN_feature_map_column_has_its_grid_shape_and_averages_to_the_pooled_features()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 6);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: TestScenes.ImageSize));
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { FeatureMapColumnName = "Map", BatchSize = 4 }).Fit(data);

        var output = featurizer.Transform(data);

        var type = (VectorDataViewType)output.Schema["Map"].Type;
        type.Dimensions.Should().Equal(32, 4, 4);
        var pooled = output.GetColumn<float[]>("Features").ToList();
        var maps = output.GetColumn<float[]>("Map").ToList();
        for (int row = 0; row < pooled.Count; row++)
        for (int c = 0; c < 32; c++)
            maps[row].Skip(c * 16).Take(16).Average().Should().BeApproximately(pooled[row][c], 1e-5f);
    }

    [Test]
    public void ViT_feature_map_is_the_patch_token_grid_and_survives_saving()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 3);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.VitTiny, PatchSize: 8, ImageSize: TestScenes.ImageSize));
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { FeatureMapColumnName = "Map" }).Fit(data);
        var maps = featurizer.Transform(data).GetColumn<float[]>("Map").ToList();
        string path = Path.Combine(Path.GetTempPath(), $"sp-map-{Guid.NewGuid():N}.zip");
        try
        {
            mlContext.Model.Save(featurizer, data.Schema, path);
            var loaded = new MLContext(2).Model.Load(path, out _);
            var reloaded = loaded.Transform(data);

            ((VectorDataViewType)reloaded.Schema["Map"].Type).Dimensions.Should().Equal(192, 4, 4);
            reloaded.GetColumn<float[]>("Map").Zip(maps, (a, b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max()).Max().Should().BeLessThanOrEqualTo(1e-6f);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
