using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.MLNet;

namespace SpatialPrediction.ML.Tests.MLNet;

public class ResizingTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-resize-";

    /// <summary>A 64 × 32 picture (wide): the left quarter red, the middle half blue, the right quarter green.</summary>
    private static byte[] WidePlanes()
    {
        const int width = 64, height = 32, plane = width * height;
        var planes = new byte[3 * plane];
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            int channel = x < 16 ? 0 : x < 48 ? 2 : 1;
            planes[channel * plane + y * width + x] = 255;
        }
        return planes;
    }

    private static (double Red, double Green, double Blue) Means(byte[] planes, int size)
    {
        int plane = size * size;
        double Mean(int c) => planes.Skip(c * plane).Take(plane).Average(b => (double)b);
        return (Mean(0), Mean(1), Mean(2));
    }

    [Test]
    public void A_wide_picture_is_cropped_stretched_or_padded_as_ML_NET_names_it()
    {
        var crop = Means(ImageColumn.ResizePlanes(WidePlanes(), 32, 64, 16, ImageResizingEstimator.ResizingKind.IsoCrop), 16);
        var fill = Means(ImageColumn.ResizePlanes(WidePlanes(), 32, 64, 16, ImageResizingEstimator.ResizingKind.Fill), 16);
        var pad = Means(ImageColumn.ResizePlanes(WidePlanes(), 32, 64, 16, ImageResizingEstimator.ResizingKind.IsoPad), 16);

        crop.Blue.Should().BeApproximately(255, 1, "the centred 32 × 32 square is all blue");
        (crop.Red + crop.Green).Should().BeLessThan(2);
        fill.Red.Should().BeApproximately(255 / 4.0, 4, "stretching keeps the red quarter");
        fill.Blue.Should().BeApproximately(255 / 2.0, 4);
        pad.Blue.Should().BeApproximately(255 / 4.0, 4, "padded to 64 × 64: the blue half of the picture fills a quarter of the square");
        pad.Red.Should().BeApproximately(255 / 8.0, 4);
    }

    [Test]
    public void The_resizing_kind_is_saved_in_the_model_zip_and_new_featurisers_crop_by_default()
    {
        var mlContext = new MLContext(1);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        var data = TestScenes.DataView(mlContext, 2);
        var padding = mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { Resizing = ImageResizingEstimator.ResizingKind.IsoPad }).Fit(data);
        string path = Path.Combine(Folder, "model.zip");
        mlContext.Model.Save(padding, data.Schema, path);

        var loaded = (SpatialFeaturizerTransformer)mlContext.Model.Load(path, out _);

        new SpatialFeaturizeOptions().Resizing.Should().Be(ImageResizingEstimator.ResizingKind.IsoCrop);
        new SpatialPretrainOptions().Resizing.Should().Be(ImageResizingEstimator.ResizingKind.IsoCrop);
        loaded.Resizing.Should().Be(ImageResizingEstimator.ResizingKind.IsoPad);
        loaded.Backbone.Dispose();
    }
}

public class FeaturizationPrecisionTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-bf16-";

    [Test]
    public void BFloat16_features_stay_close_to_float32_survive_a_zip_and_leave_the_backbone_float32()
    {
        var mlContext = new MLContext(1);
        var warnings = new List<string>();
        mlContext.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) warnings.Add(e.Message); };
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.ResNet18, ImageSize: 32));
        var data = TestScenes.DataView(mlContext, 8);
        var float32Featurizer = mlContext.Transforms.SpatialFeaturize(backbone).Fit(data);
        var fp32 = float32Featurizer.Transform(data).GetColumn<float[]>("Features").ToList();
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { Precision = ComputePrecision.BFloat16 }).Fit(data);
        var bf16 = featurizer.Transform(data).GetColumn<float[]>("Features").ToList();
        var fp32Again = float32Featurizer.Transform(data).GetColumn<float[]>("Features").ToList();
        string path = Path.Combine(Folder, "bf16.zip");
        mlContext.Model.Save(featurizer, data.Schema, path);
        var loaded = (SpatialFeaturizerTransformer)mlContext.Model.Load(path, out _);

        for (int i = 0; i < fp32.Count; i++)
        {
            double dot = fp32[i].Zip(bf16[i], (a, b) => (double)a * b).Sum();
            double cosine = dot / Math.Sqrt(fp32[i].Sum(a => (double)a * a) * bf16[i].Sum(b => (double)b * b));
            cosine.Should().BeGreaterThan(0.995, "bfloat16 keeps 8 bits of mantissa");
            bf16[i].Should().NotEqual(fp32[i], "bfloat16 really ran");
        }
        for (int i = 0; i < fp32.Count; i++)
            fp32Again[i].Should().Equal(fp32[i], "a bfloat16 featuriser on the same backbone leaves a float32 one alone");
        backbone.Module.parameters().Should().OnlyContain(p => p.dtype == TorchSharp.torch.ScalarType.Float32, "the trained module is never cast");
        loaded.Precision.Should().Be(ComputePrecision.BFloat16);
        loaded.Backbone.Dispose();
        warnings.Any(w => w.Contains("bfloat16 featurisation (Precision = BFloat16) was asked for", StringComparison.Ordinal))
            .Should().Be(SpatialPrediction.ML.Machine.BFloat16Kernels.SlowerOn(TorchSharp.torch.CPU) is not null, "only a CPU where bfloat16 runs slower earns the warning");
    }
}
