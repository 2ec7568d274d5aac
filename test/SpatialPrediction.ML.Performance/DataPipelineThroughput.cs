using Microsoft.ML.Data;
using SkiaSharp;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.MLNet;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// The CPU work that feeds training, per core (one thread): decoding a 400×320 JPEG and shrinking it to the cache's
/// side, twice the training size, with its aspect ratio (done once per image, when a dataset is loaded), and cutting the
/// views of one training step from those pictures — SimCLR's two augmented crops plus SP's two augmented 32 px views
/// (done for every image of every step).
/// </summary>
internal static class DataPipelineThroughput
{
    public sealed record Result(int Size, double DecodePerCore, double ViewsPerCore);

    public static Result Run(int size, int images = 64)
    {
        var jpegs = SpatialScenes.Generate(images, new SpatialScenesOptions { ImageSize = 400, Seed = 3 }).Select(s => EncodeJpeg(s, 320)).ToList();
        var pictures = new Tensor[jpegs.Count];
        int threads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(1);
        try
        {
            var decode = Statistics.MedianSeconds(() =>
            {
                for (int i = 0; i < jpegs.Count; i++)
                {
                    using var image = ImageDecoder.Decode(jpegs[i], $"benchmark image {i}");
                    var picture = ImageColumn.ToPicture(image, 2 * size, "Image", i, "benchmark");
                    pictures[i]?.Dispose();
                    pictures[i] = picture.ToTensor();
                }
            }, repeats: 3);

            using var scope = NewDisposeScope();
            using var host = new SimClrObjective(512, size);
            using var plugin = new SpatialPredictionPlugin(512, new SpatialPredictionSettings());
            using var batch = new PictureBatch(pictures);
            var random = new Random(1);
            var views = Statistics.MedianSeconds(() =>
            {
                using var stepScope = NewDisposeScope();
                host.MakeViews(batch, random, CPU);
                plugin.MakeViews(batch, random, CPU);
            }, repeats: 3);
            return new Result(size, images / decode, images / views);
        }
        finally
        {
            TorchSharp.torch.set_num_threads(threads);
        }
    }

    /// <summary>A JPEG of the scene with its top and bottom cut so it is <paramref name="height"/> px high (quality 90).</summary>
    internal static byte[] EncodeJpeg(SceneImage scene, int height)
    {
        int top = (scene.Height - height) / 2;
        using var bitmap = new SKBitmap(scene.Width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var rgba = new byte[scene.Width * height * 4];
        for (int p = 3 * top * scene.Width, q = 0; q < rgba.Length; p += 3, q += 4)
        {
            rgba[q] = scene.Rgb[p]; rgba[q + 1] = scene.Rgb[p + 1]; rgba[q + 2] = scene.Rgb[p + 2]; rgba[q + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var encoded = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        return encoded.ToArray();
    }
}
