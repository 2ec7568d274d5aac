using Microsoft.ML;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.MLNet;

namespace SpatialPrediction.ML.Tests.MLNet;

public class TrainingImageCacheTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-cache-";

    private SpatialPretrainOptions Options(TrainingImageCache cache, int limitMegabytes = 1024, List<string>? log = null) => new()
    {
        ImageSize = TestScenes.ImageSize, BackboneWidth = 4, Epochs = 2, BatchSize = 16, ValidationFraction = 0,
        SpatialPrediction = new SpatialPredictionOptions { LocalResolution = 16, HeadWidth = 32 },
        Runtime = { ImageCache = cache, ImageCacheMemoryLimitMegabytes = limitMegabytes, ImageCacheFolder = Folder },
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
        var negative = () => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions { Runtime = { ImageCacheMemoryLimitMegabytes = -1 } });
        var unknown = () => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions { Runtime = { ImageCache = (TrainingImageCache)7 } });

        negative.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*ImageCacheMemoryLimitMegabytes must not be negative*");
        unknown.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Auto, Memory, Disk or None*");
    }
}

public class TrainingPictureReadingTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-pictures-";

    /// <summary>A folder (one class) of PNG files of several sizes and aspect ratios, each a smooth colour ramp with its own tint.</summary>
    private ImageDataset WritePictures(int count)
    {
        var sizes = new[] { (48, 32), (32, 48), (40, 40), (64, 36), (30, 50) };
        string root = Path.Combine(Folder, "pictures"), classFolder = Path.Combine(root, "ramps");
        Directory.CreateDirectory(classFolder);
        for (int i = 0; i < count; i++)
        {
            var (width, height) = sizes[i % sizes.Length];
            int tint = 37 * i % 256;
            var png = Reliability.ImageFiles.Encode(width, height, (x, y) => new SkiaSharp.SKColor((byte)(255 * x / width), (byte)(255 * y / height), (byte)tint));
            File.WriteAllBytes(Path.Combine(classFolder, $"picture{i:D3}.png"), png);
        }
        return ImageDataset.FromFolder(root);
    }

    [Test]
    public void Pictures_keep_their_aspect_ratio_with_the_shorter_side_capped_and_are_never_enlarged()
    {
        var dataset = WritePictures(5);
        var data = dataset.ToDataView(new MLContext(1));
        var input = ImageInput.For(data.Schema, "Image", 32, 0, 0, "test");

        using var images = ImageColumn.ReadImages(data, input, "Image", maxSide: 36, skipped: null, TrainingImageCache.Memory, 1L << 30, null, decodeThreads: 2, log: null);
        using var pictures = images.Gather(Enumerable.Range(0, 5).Select(i => (long)i).ToArray());

        var sizes = Enumerable.Range(0, 5).Select(i => (pictures.Width(i), pictures.Height(i))).ToList();
        sizes.Should().Equal((48, 32), (32, 48), (36, 36), (64, 36), (30, 50));
    }

    [Test]
    public void Decoding_on_one_or_two_threads_and_caching_in_memory_or_on_disk_train_the_same_weights()
    {
        var dataset = WritePictures(24);
        var mlContext = new MLContext(1);
        var data = dataset.ToDataView(mlContext);
        SpatialPretrainOptions Options(int threads, TrainingImageCache cache) => new()
        {
            ImageSize = TestScenes.ImageSize, BackboneWidth = 4, Epochs = 1, BatchSize = 8, ValidationFraction = 0,
            SpatialPrediction = new SpatialPredictionOptions { LocalResolution = 16, HeadWidth = 32 },
            Runtime = { DecodeThreads = threads, ImageCache = cache, ImageCacheFolder = Path.Combine(Folder, "cache") },
        };

        var weights = new[] { (1, TrainingImageCache.Memory), (2, TrainingImageCache.Memory), (2, TrainingImageCache.Disk) }
            .Select(o =>
            {
                var featurizer = mlContext.Transforms.SpatialPretrain(Options(o.Item1, o.Item2)).Fit(data);
                var state = featurizer.Backbone.Module.state_dict().ToDictionary(p => p.Key, p => p.Value.cpu().to_type(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray());
                featurizer.Backbone.Dispose();
                return state;
            }).ToList();

        foreach (var other in weights.Skip(1))
            foreach (var (name, values) in weights[0]) other[name].Should().Equal(values, $"{name}: pictures are kept in row order whatever the threads and the store");
    }

    [Test]
    public void Bad_picture_cache_settings_are_refused_naming_the_option()
    {
        var mlContext = new MLContext(1);
        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions { Runtime = { ImageCacheShorterSide = -1 } }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Runtime.ImageCacheShorterSide must not be negative*");
        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions { Runtime = { DecodeThreads = -2 } }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Runtime.DecodeThreads must not be negative*");
    }
}

public class DecodingEveryBatchTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-decoding-";

    private ImageDataset WriteScenes(int count)
    {
        string root = Path.Combine(Folder, "scenes"), classFolder = Path.Combine(root, "all");
        Directory.CreateDirectory(classFolder);
        var scenes = SpatialScenes.Generate(count, new SpatialScenesOptions { ImageSize = TestScenes.ImageSize, Seed = 4 });
        for (int i = 0; i < count; i++)
        {
            var scene = scenes[i];
            var png = Reliability.ImageFiles.Encode(scene.Width, scene.Height, (x, y) =>
            {
                int p = 3 * (y * scene.Width + x);
                return new SkiaSharp.SKColor(scene.Rgb[p], scene.Rgb[p + 1], scene.Rgb[p + 2]);
            });
            File.WriteAllBytes(Path.Combine(classFolder, $"scene{i:D3}.png"), png);
        }
        return ImageDataset.FromFolder(root);
    }

    private static SpatialPretrainOptions Options(TrainingImageCache cache, bool skip = false, IProgress<SpatialPrediction.ML.Training.PretrainingProgress>? progress = null) => new()
    {
        ImageSize = TestScenes.ImageSize, BackboneWidth = 4, Epochs = 3, BatchSize = 8, ValidationFraction = 0,
        SpatialPrediction = new SpatialPredictionOptions { LocalResolution = 16, HeadWidth = 32 },
        SkipUnreadableImages = skip, Progress = progress,
        // PrefetchBatches 0: batch k + 1 is made after step k reports, whatever the machine's core count.
        Runtime = { ImageCache = cache, PrefetchBatches = 0 },
    };

    private static Dictionary<string, float[]> Weights(SpatialFeaturizerTransformer featurizer)
    {
        var weights = featurizer.Backbone.Module.state_dict().ToDictionary(p => p.Key, p => p.Value.cpu().to_type(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray());
        featurizer.Backbone.Dispose();
        return weights;
    }

    [Test]
    public void Decoding_every_batch_from_the_files_trains_the_weights_of_the_cached_pictures()
    {
        var mlContext = new MLContext(1);
        var data = WriteScenes(24).ToDataView(mlContext);

        var cached = Weights(mlContext.Transforms.SpatialPretrain(Options(TrainingImageCache.Memory)).Fit(data));
        var decoded = Weights(mlContext.Transforms.SpatialPretrain(Options(TrainingImageCache.None)).Fit(data));

        foreach (var (name, values) in cached) decoded[name].Should().Equal(values, $"{name}: the same pictures, batch for batch");
    }

    [Test]
    public void A_file_that_breaks_in_the_third_epoch_is_skipped_and_listed_or_named_in_the_error()
    {
        var mlContext = new MLContext(1);
        var dataset = WriteScenes(24);
        var data = dataset.ToDataView(mlContext);
        string victim = dataset.Entries[5].Path;
        byte[] original = File.ReadAllBytes(victim);
        // Epoch 3 starts after step 6 (24 pictures, batch 8): the file is cut short then, after two good epochs.
        var breakIt = new SynchronousProgress<SpatialPrediction.ML.Training.PretrainingProgress>(p => { if (p.Step == 6) File.WriteAllBytes(victim, original[..40]); });

        var skipped = mlContext.Transforms.SpatialPretrain(Options(TrainingImageCache.None, skip: true, breakIt)).Fit(data);
        skipped.TrainingHistory!.SkippedRows.Should().ContainSingle().Which.Should().StartWith("row 5:").And.Contain("scene005.png").And.Contain("found while training");
        skipped.TrainingHistory.Steps.Should().HaveCount(9, "training went on to the end");
        skipped.Backbone.Dispose();

        File.WriteAllBytes(victim, original);
        var strict = () => mlContext.Transforms.SpatialPretrain(Options(TrainingImageCache.None, skip: false, breakIt)).Fit(data);
        strict.Should().Throw<Exception>().Where(e => e.ToString().Contains("scene005.png") && e.ToString().Contains("SkipUnreadableImages"));
    }

    [Test]
    public void Decoding_every_batch_needs_rows_that_are_files_and_says_so()
    {
        var mlContext = new MLContext(1);
        var fit = () => mlContext.Transforms.SpatialPretrain(Options(TrainingImageCache.None)).Fit(TestScenes.DataView(mlContext, 16));

        fit.Should().Throw<ArgumentException>().WithMessage("*ImageCache None*ImageDataset*Use ImageCache Auto or Disk*");
    }
}
