using Microsoft.ML;

namespace SpatialPrediction.ML.Tests.MLNet;

public class TrainingImageCacheTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-cache-";

    private SpatialPretrainOptions Options(TrainingImageCache cache, int limitMegabytes = 1024, List<string>? log = null) => new()
    {
        ImageSize = TestScenes.ImageSize, BackboneWidth = 4, Epochs = 2, BatchSize = 16, ValidationFraction = 0,
        SpatialPrediction = new SpatialPredictionOptions { LocalResolution = 16, HeadWidth = 32 },
        ImageCache = cache, ImageCacheMemoryLimitMegabytes = limitMegabytes, ImageCacheFolder = Folder,
    };

    private static Dictionary<string, float[]> Weights(SpatialFeaturizerTransformer featurizer)
        => featurizer.Backbone.Module.state_dict().ToDictionary(p => p.Key, p => p.Value.cpu().to_type(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray());

    [Test]
    public void Memory_disk_and_auto_past_its_limit_train_the_same_weights_and_leave_no_file()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 48);
        var messages = new List<string>();
        mlContext.Log += (_, e) => { if (e.Message.Contains("temporary file") || e.Message.Contains("Training images:")) messages.Add(e.Message); };

        var memory = mlContext.Transforms.SpatialPretrain(Options(TrainingImageCache.Memory)).Fit(data);
        var disk = mlContext.Transforms.SpatialPretrain(Options(TrainingImageCache.Disk)).Fit(data);
        var autoPastLimit = mlContext.Transforms.SpatialPretrain(Options(TrainingImageCache.Auto, limitMegabytes: 0)).Fit(data);

        var expected = Weights(memory);
        foreach (var other in new[] { disk, autoPastLimit })
        {
            var weights = Weights(other);
            weights.Keys.Should().BeEquivalentTo(expected.Keys);
            foreach (var (name, values) in expected) weights[name].Should().Equal(values, $"{name}: the same batches, byte for byte");
        }
        Directory.GetFiles(Folder).Should().BeEmpty("the cache file is gone once training ends");
        messages.Should().Contain(m => m.Contains("the rest of the run reads them from a temporary file"), "Auto says when it moves to disk");
        foreach (var featurizer in new[] { memory, disk, autoPastLimit }) featurizer.Backbone.Dispose();
    }

    [Test]
    public void A_bad_cache_setting_is_refused_when_the_estimator_is_made()
    {
        var mlContext = new MLContext(1);
        var negative = () => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions { ImageCacheMemoryLimitMegabytes = -1 });
        var unknown = () => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions { ImageCache = (TrainingImageCache)7 });

        negative.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*ImageCacheMemoryLimitMegabytes must not be negative*");
        unknown.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Auto, Memory or Disk*");
    }
}
