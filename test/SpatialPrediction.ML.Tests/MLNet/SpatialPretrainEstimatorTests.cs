using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.MLNet;
using SpatialPrediction.ML.Objectives;

namespace SpatialPrediction.ML.Tests.MLNet;

public class SpatialPretrainEstimatorTests
{
    private static SpatialPretrainOptions SmallOptions(int epochs) => new()
    {
        ImageSize = TestScenes.ImageSize,
        BackboneWidth = 8,
        Epochs = epochs,
        BatchSize = 32,
        LearningRate = 3e-3,
        SpatialPrediction = new SpatialPredictionOptions { LocalResolution = 16, HeadWidth = 64 },
    };

    [Test]
    public void Pipeline_of_pretraining_key_mapping_and_a_linear_probe_fits_and_beats_chance_clearly()
    {
        var mlContext = new MLContext(1);
        var train = TestScenes.DataView(mlContext, 480, seed: 1, classCount: 4);
        var test = TestScenes.DataView(mlContext, 240, seed: 2, classCount: 4);

        // SP alone trains fastest and, on SpatialScenes, gives the most shape-aware features for its cost.
        var options = SmallOptions(epochs: 30);
        options.Framework = SslFramework.None;
        var pipeline = mlContext.Transforms.SpatialPretrain(options)
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label"))
            .Append(mlContext.Transforms.NormalizeMinMax("Features"))
            .AppendCacheCheckpoint(mlContext)
            .Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features"));
        var model = pipeline.Fit(train);
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));

        TestContext.Out.WriteLine($"linear-probe accuracy {metrics.MicroAccuracy:P1} (chance 25 %)");
        metrics.MicroAccuracy.Should().BeGreaterThan(0.35, "chance is 0.25 with four classes (240 test images: 0.35 is > 3 sigma above it)");
    }

    [Test]
    public void Featurizer_adds_a_float_vector_column_of_the_backbone_dimension()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 8);
        var featurizer = mlContext.Transforms.SpatialPretrain(SmallOptions(epochs: 0)).Fit(data);

        var output = featurizer.Transform(data);

        var type = output.Schema["Features"].Type.Should().BeOfType<VectorDataViewType>().Subject;
        type.ItemType.Should().Be(NumberDataViewType.Single);
        type.Size.Should().Be(64);
        featurizer.FeatureDimension.Should().Be(64);
        var features = output.GetColumn<float[]>("Features").ToList();
        features.Should().HaveCount(8).And.OnlyContain(f => f.Length == 64 && f.All(float.IsFinite));
        features[0].Should().NotEqual(features[1]);
        output.GetColumn<int>("Label").Should().Equal(data.GetColumn<int>("Label"));
    }

    [Test]
    public void Featurize_of_one_image_equals_the_transformed_column()
    {
        var mlContext = new MLContext(1);
        var scenes = SpatialPrediction.ML.Data.SpatialScenes.Generate(3, new() { ImageSize = TestScenes.ImageSize });
        var data = SpatialPrediction.ML.Data.SpatialScenes.ToDataView(mlContext, scenes);
        var featurizer = mlContext.Transforms.SpatialPretrain(SmallOptions(epochs: 0)).Fit(data);

        var fromColumn = featurizer.Transform(data).GetColumn<float[]>("Features").ToList();

        // One image alone vs a batch of three: the same numbers up to float rounding inside batched kernels.
        for (int i = 0; i < 3; i++)
            featurizer.Featurize(SpatialPrediction.ML.Data.SpatialScenes.ToMLImage(scenes[i]))
                .Zip(fromColumn[i], (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-5f);
    }

    [Test]
    public void Wrong_input_column_type_is_reported_with_the_column_name_and_the_expected_type()
    {
        var mlContext = new MLContext(1);
        var data = mlContext.Data.LoadFromEnumerable(new[] { new TextRow { Image = "cat.png" } });
        var estimator = mlContext.Transforms.SpatialPretrain(SmallOptions(epochs: 0));

        FluentActions.Invoking(() => estimator.GetOutputSchema(SchemaShapeColumns.FromSchema(data.Schema)))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*'Image'*String*image column*MLImage*LoadImages*");
        FluentActions.Invoking(() => estimator.Fit(data))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*'Image'*String*image column*MLImage*");
    }

    [Test]
    public void Pixel_vectors_of_a_length_that_is_no_square_image_ask_for_the_shape()
    {
        var mlContext = new MLContext(1);
        var data = mlContext.Data.LoadFromEnumerable(new[] { new VectorRow { Image = new float[3 * 10 * 12] } });

        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(SmallOptions(epochs: 0)).Fit(data))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*'Image'*360 values*PixelHeight and PixelWidth*");
    }

    [Test]
    public void Missing_input_column_is_reported_with_the_columns_that_exist()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 4);
        var estimator = mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions { InputColumnName = "Picture", Epochs = 0 });

        FluentActions.Invoking(() => estimator.Fit(data))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*'Picture' was not found*'Image'*'Label'*");
    }

    [Test]
    public void Estimator_output_schema_adds_the_feature_vector_column()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 4);

        var shape = mlContext.Transforms.SpatialPretrain(SmallOptions(epochs: 0)).GetOutputSchema(SchemaShapeColumns.FromSchema(data.Schema));

        var features = shape.Single(c => c.Name == "Features");
        features.Kind.Should().Be(SchemaShape.Column.VectorKind.Vector);
        features.ItemType.Should().Be(NumberDataViewType.Single);
        shape.Select(c => c.Name).Should().Contain(new[] { "Image", "Label" });
    }

    [Test]
    public void Invalid_options_fail_when_the_estimator_is_created_naming_the_option()
    {
        var mlContext = new MLContext(1);

        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions { BatchSize = 1 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*BatchSize*");
        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions
        {
            SpatialPrediction = new SpatialPredictionOptions { ViewPairs = new SpatialPrediction.ML.Spatial.SpatialViewPairSampler { MaxIoU = 2f } },
        })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*MaxIoU*");
        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions
        {
            SpatialPrediction = new SpatialPredictionOptions { WeightWarmupFraction = 1.5 },
        })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*WeightWarmupFraction*[0, 1]*");
        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions
        {
            SpatialPrediction = new SpatialPredictionOptions { BackboneGradientScale = -1f },
        })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*BackboneGradientScale*[0, 1]*");
        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions { FrozenStages = -1 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*FrozenStages*");
        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions { FeaturizationImageSize = 8 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*FeaturizationImageSize*");
    }

    [Test]
    public void The_featuriser_resizes_to_FeaturizationImageSize_when_it_is_set()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 8);
        var options = SmallOptions(epochs: 0);
        options.FeaturizationImageSize = 48;

        var featurizer = mlContext.Transforms.SpatialPretrain(options).Fit(data);

        featurizer.Backbone.ImageSize.Should().Be(48);
        options.ImageSize.Should().NotBe(48);
        featurizer.Backbone.Dispose();
    }

    [Test]
    public void Catalog_context_device_settings_reach_the_estimator()
    {
        var mlContext = new MLContext(1) { GpuDeviceId = 0, FallbackToCpu = false };
        var data = TestScenes.DataView(mlContext, 4);
        var estimator = mlContext.Transforms.SpatialPretrain(SmallOptions(epochs: 0));

        if (TorchSharp.torch.cuda.is_available()) Assert.Pass("CUDA is present: the GPU path is taken instead.");
        FluentActions.Invoking(() => estimator.Fit(data))
            .Should().Throw<InvalidOperationException>().WithMessage("*cuda:0*FallbackToCpu*");
    }

    [Test]
    public void Schema_shape_columns_can_still_be_built_on_this_ML_NET_version()
    {
        var column = SchemaShapeColumns.FloatVector("F");

        column.Name.Should().Be("F");
        column.ItemType.Should().Be(NumberDataViewType.Single);
    }

    private sealed class VectorRow
    {
        [VectorType(360)]
        public float[] Image { get; set; } = Array.Empty<float>();
    }

    private sealed class TextRow
    {
        public string Image { get; set; } = "";
    }
}

public class DeviceAndDefaultsTests
{
    [Test]
    public void SpatialFeaturize_follows_the_contexts_GpuDeviceId_like_a_loaded_model_zip()
    {
        if (TorchSharp.torch.cuda.is_available()) Assert.Ignore("Checks the no-GPU rule; this machine has CUDA.");
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        var strict = new MLContext(1) { GpuDeviceId = 0, FallbackToCpu = false };
        var lenient = new MLContext(1) { GpuDeviceId = 0, FallbackToCpu = true };
        var data = SpatialScenes.ToDataView(strict, SpatialScenes.Generate(2, new SpatialScenesOptions { ImageSize = 32 }));

        var refused = () => strict.Transforms.SpatialFeaturize(backbone);
        var onCpu = lenient.Transforms.SpatialFeaturize(backbone).Fit(data);

        refused.Should().Throw<InvalidOperationException>().WithMessage("*cuda:0*CUDA is not available*FallbackToCpu*");
        onCpu.Backbone.Should().BeSameAs(backbone, "the backbone is already on the device the context falls back to");
    }

    [Test]
    public void The_SP_weight_defaults_to_the_hosts_measured_value_and_an_explicit_one_wins()
    {
        float Weight(SslFramework framework, float? weight = null)
            => new SpatialPretrainOptions { Framework = framework, SpatialPrediction = new SpatialPredictionOptions { Weight = weight } }.ToSettings().SpatialPredictionWeight;

        Weight(SslFramework.SimClr).Should().Be(0.5f);
        Weight(SslFramework.Dino).Should().Be(0.25f);
        Weight(SslFramework.Dino, 2f).Should().Be(2f);
        var negative = () => new SpatialPretrainOptions { SpatialPrediction = new SpatialPredictionOptions { Weight = -1 } }.ToSettings();
        negative.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Weight*");
    }

    [Test]
    public void The_training_history_is_read_only_to_users()
    {
        typeof(PretrainingHistory).GetProperties().Where(p => p.SetMethod is { IsPublic: true }).Should().BeEmpty();
        typeof(PretrainingHistory).GetProperty(nameof(PretrainingHistory.Steps))!.PropertyType.Should().Be(typeof(IReadOnlyList<StepRecord>));
    }
}

public class OneOptionsPathTests
{
    [TestCase(nameof(SpatialPretrainOptions.Epochs), "Epochs must not be negative.")]
    [TestCase(nameof(DinoOptions.LocalCrops), "LocalCrops must not be negative.")]
    public void A_bad_setting_fails_with_one_message_at_construction_and_in_the_engine(string setting, string message)
    {
        var options = new SpatialPretrainOptions { Framework = SslFramework.Dino };
        if (setting == nameof(SpatialPretrainOptions.Epochs)) options.Epochs = -1;
        else options.Dino.LocalCrops = -1;
        var settings = new PretrainingSettings { Framework = SslFramework.Dino, ImageSize = 32 };
        settings = setting == nameof(SpatialPretrainOptions.Epochs) ? settings with { Epochs = -1 } : settings with { LocalCrops = -1 };
        using var images = TorchSharp.torch.zeros(4, 3, 32, 32);

        var atConstruction = () => new MLContext(1).Transforms.SpatialPretrain(options);
        var inTheEngine = () => SpatialPretrainer.Train(images, settings, TorchSharp.torch.CPU);

        atConstruction.Should().Throw<ArgumentOutOfRangeException>().WithMessage($"{message}*").Which.ParamName.Should().Be(setting);
        inTheEngine.Should().Throw<ArgumentOutOfRangeException>().WithMessage($"{message}*").Which.ParamName.Should().Be(setting);
    }
}
