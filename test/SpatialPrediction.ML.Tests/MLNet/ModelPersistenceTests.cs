using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.Tests.MLNet;

public class ModelPersistenceTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-models-";

    private static SpatialFeaturizerTransformer TrainedFeaturizer(MLContext mlContext, IDataView data, string column = "Image") =>
        mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions
        {
            InputColumnName = column,
            ImageSize = TestScenes.ImageSize,
            BackboneWidth = 4,
            Epochs = 1,
            BatchSize = 16,
            Runtime = { FeaturizationBatchSize = 8 },
            SpatialPrediction = new SpatialPredictionOptions { LocalResolution = 16, HeadWidth = 16 },
        }).Fit(data);

    private static float MaxDifference(IEnumerable<float[]> a, IEnumerable<float[]> b)
        => a.Zip(b, (x, y) => x.Zip(y, (p, q) => Math.Abs(p - q)).Max()).Max();

    [Test]
    public void Featurizer_saved_in_an_ML_NET_zip_loads_in_a_new_context_with_identical_features()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 20);
        var featurizer = TrainedFeaturizer(mlContext, data);
        var before = featurizer.Transform(data).GetColumn<float[]>("Features").ToList();
        string path = Path.Combine(Folder, "featurizer.zip");
        mlContext.Model.Save(featurizer, data.Schema, path);

        var fresh = new MLContext(2);
        var loaded = fresh.Model.Load(path, out _);
        var after = loaded.Transform(TestScenes.DataView(fresh, 20)).GetColumn<float[]>("Features").ToList();

        MaxDifference(before, after).Should().BeLessThanOrEqualTo(1e-6f);
        (loaded as SpatialFeaturizerTransformer ?? ((TransformerChain<ITransformer>)loaded).LastTransformer as SpatialFeaturizerTransformer)
            .Should().NotBeNull();
    }

    [Test]
    public void Encoded_bytes_and_ExtractPixels_columns_featurise_like_the_image_itself_and_survive_a_round_trip()
    {
        var mlContext = new MLContext(1);
        var scenes = SpatialScenes.Generate(12, new SpatialScenesOptions { ImageSize = TestScenes.ImageSize });
        var rows = scenes.Select(s => new EncodedRow { Bytes = Png(s), Pixels = Planar(s), Label = s.Label }).ToList();
        var data = mlContext.Data.LoadFromEnumerable(rows);
        var fromImages = TrainedFeaturizer(mlContext, SpatialScenes.ToDataView(mlContext, scenes));
        var reference = fromImages.Transform(SpatialScenes.ToDataView(mlContext, scenes)).GetColumn<float[]>("Features").ToList();

        foreach (var column in new[] { nameof(EncodedRow.Bytes), nameof(EncodedRow.Pixels) })
        {
            var estimator = mlContext.Transforms.SpatialFeaturize(fromImages.Backbone, inputColumnName: column, batchSize: 8);
            var featurizer = estimator.Fit(data);
            var features = featurizer.Transform(data).GetColumn<float[]>("Features").ToList();
            MaxDifference(reference, features).Should().BeLessThanOrEqualTo(1e-6f, $"{column} holds the same pixels");

            string path = Path.Combine(Folder, column + ".zip");
            mlContext.Model.Save(featurizer, data.Schema, path);
            var loaded = new MLContext(3).Model.Load(path, out _);
            MaxDifference(features, loaded.Transform(data).GetColumn<float[]>("Features")).Should().BeLessThanOrEqualTo(1e-6f);
        }
    }

    [Test]
    public void LoadImages_SpatialFeaturize_and_a_linear_probe_saved_and_reloaded_predict_the_same_labels()
    {
        var mlContext = new MLContext(1);
        var scenes = SpatialScenes.Generate(40, new SpatialScenesOptions { ImageSize = TestScenes.ImageSize, ClassCount = 4 });
        var rows = scenes.Select((s, i) =>
        {
            string file = Path.Combine(Folder, $"scene {i} ünï.png");
            using (var image = SpatialScenes.ToMLImage(s)) image.Save(file);
            return new FileRow { ImagePath = Path.GetFileName(file), Label = s.Label };
        }).ToList();
        var data = mlContext.Data.LoadFromEnumerable(rows);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: TestScenes.ImageSize));
        var pipeline = mlContext.Transforms.LoadImages("Image", Folder, nameof(FileRow.ImagePath))
            .Append(mlContext.Transforms.SpatialFeaturize(backbone))
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label"))
            .AppendCacheCheckpoint(mlContext)
            .Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features"));
        var model = pipeline.Fit(data);
        var predicted = model.Transform(data).GetColumn<uint>("PredictedLabel").ToList();
        string path = Path.Combine(Folder, "pipeline.zip");
        mlContext.Model.Save(model, data.Schema, path);

        var reloaded = new MLContext(9).Model.Load(path, out _);

        reloaded.Transform(data).GetColumn<uint>("PredictedLabel").Should().Equal(predicted);
    }

    [Test]
    public void Truncated_or_foreign_zips_fail_with_an_exception_not_a_crash()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 4);
        var featurizer = TrainedFeaturizer(mlContext, data);
        string good = Path.Combine(Folder, "good.zip"), truncated = Path.Combine(Folder, "truncated.zip"), foreign = Path.Combine(Folder, "foreign.zip");
        mlContext.Model.Save(featurizer, data.Schema, good);
        var bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        using (var zip = ZipFile.Open(foreign, ZipArchiveMode.Create))
        using (var writer = new StreamWriter(zip.CreateEntry("readme.txt").Open())) writer.Write("not a model");

        FluentActions.Invoking(() => mlContext.Model.Load(truncated, out _)).Should().Throw<Exception>();
        FluentActions.Invoking(() => mlContext.Model.Load(foreign, out _)).Should().Throw<Exception>();
    }

    [Test]
    public void A_backbone_file_round_trips_and_damage_is_reported_with_what_is_wrong()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 8);
        var featurizer = TrainedFeaturizer(mlContext, data);
        string path = Path.Combine(Folder, "backbone.spbb");
        featurizer.Backbone.Save(path);

        using (var loaded = SpatialBackbone.Load(path))
        {
            loaded.Kind.Should().Be(BackboneKind.SmallResNet);
            loaded.ImageSize.Should().Be(TestScenes.ImageSize);
            loaded.TrainedWith.Should().Contain("SimClr");
            var reloaded = mlContext.Transforms.SpatialFeaturize(loaded, batchSize: 8).Fit(data).Transform(data).GetColumn<float[]>("Features");
            MaxDifference(featurizer.Transform(data).GetColumn<float[]>("Features"), reloaded).Should().BeLessThanOrEqualTo(1e-6f);
        }

        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - 50).ToArray());
        FluentActions.Invoking(() => SpatialBackbone.Load(path)).Should().Throw<InvalidDataException>().WithMessage($"{path}*truncated*");
        bytes[^5] ^= 0x55;
        File.WriteAllBytes(path, bytes);
        FluentActions.Invoking(() => SpatialBackbone.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*checksum*");
        File.WriteAllText(path, "definitely not a backbone");
        FluentActions.Invoking(() => SpatialBackbone.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*bad magic*");
    }

    [Test]
    public void Prediction_engines_on_eight_threads_give_the_same_features_as_serial_use()
    {
        var mlContext = new MLContext(1);
        var scenes = SpatialScenes.Generate(16, new SpatialScenesOptions { ImageSize = TestScenes.ImageSize });
        var data = SpatialScenes.ToDataView(mlContext, scenes);
        var featurizer = TrainedFeaturizer(mlContext, data);
        var serial = scenes.Select(s => featurizer.Featurize(SpatialScenes.ToMLImage(s))).ToList();

        var results = new float[8][][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            using var engine = mlContext.Model.CreatePredictionEngine<ImageRow, FeatureRow>(featurizer, data.Schema);
            results[t] = scenes.Select(s => engine.Predict(new ImageRow { Image = SpatialScenes.ToMLImage(s) }).Features).ToArray();
        });

        foreach (var run in results) MaxDifference(serial, run).Should().Be(0f);
    }

    private static byte[] Png(SceneImage scene)
    {
        string file = Path.GetTempFileName() + ".png";
        try
        {
            using (var image = SpatialScenes.ToMLImage(scene)) image.Save(file);
            return File.ReadAllBytes(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static float[] Planar(SceneImage scene)
    {
        int plane = scene.Width * scene.Height;
        var pixels = new float[3 * plane];
        for (int p = 0; p < plane; p++)
        for (int c = 0; c < 3; c++)
            pixels[c * plane + p] = scene.Rgb[p * 3 + c];
        return pixels;
    }

    private sealed class EncodedRow
    {
        public byte[] Bytes { get; set; } = Array.Empty<byte>();
        [VectorType(3 * TestScenes.ImageSize * TestScenes.ImageSize)]
        public float[] Pixels { get; set; } = Array.Empty<float>();
        public int Label { get; set; }
    }

    private sealed class FileRow
    {
        public string ImagePath { get; set; } = "";
        public int Label { get; set; }
    }

    private sealed class ImageRow
    {
        [Microsoft.ML.Transforms.Image.ImageType(TestScenes.ImageSize, TestScenes.ImageSize)]
        public MLImage? Image { get; set; }
        public int Label { get; set; }
    }

    private sealed class FeatureRow
    {
        public float[] Features { get; set; } = Array.Empty<float>();
    }
}
