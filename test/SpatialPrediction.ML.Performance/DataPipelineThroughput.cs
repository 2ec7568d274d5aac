using Microsoft.ML.Data;
using SkiaSharp;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.MLNet;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// The CPU work that feeds training, per core (one thread): decoding a 320×320 JPEG and resizing it to the training
/// size (done once per image, when a dataset is loaded), and making the views of one training step — SimCLR's two
/// augmented crops plus SP's two augmented 32 px views (done for every image of every step).
/// </summary>
internal static class DataPipelineThroughput
{
    public sealed record Result(int Size, double DecodePerCore, double ViewsPerCore);

    public static Result Run(int size, int images = 64)
    {
        var jpegs = SpatialScenes.Generate(images, new SpatialScenesOptions { ImageSize = 320, Seed = 3 }).Select(EncodeJpeg).ToList();
        var decode = Statistics.MedianSeconds(() =>
        {
            for (int i = 0; i < jpegs.Count; i++)
            {
                using var image = ImageDecoder.Decode(jpegs[i], $"benchmark image {i}");
                ImageColumn.ToRgbPlanes(image, size, "Image", i, "benchmark");
            }
        }, repeats: 3);

        int threads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(1);
        try
        {
            using var scope = NewDisposeScope();
            var batch = rand(images, 3, size, size);
            using var host = new SimClrObjective(512, size);
            using var plugin = new SpatialPredictionPlugin(512, new SpatialPredictionSettings());
            var random = new Random(1);
            var views = Statistics.MedianSeconds(() =>
            {
                using var stepScope = NewDisposeScope();
                host.MakeViews(batch, random);
                plugin.MakeViews(batch, random);
            }, repeats: 3);
            return new Result(size, images / decode, images / views);
        }
        finally
        {
            TorchSharp.torch.set_num_threads(threads);
        }
    }

    private static byte[] EncodeJpeg(SceneImage scene)
    {
        using var bitmap = new SKBitmap(scene.Width, scene.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var rgba = new byte[scene.Width * scene.Height * 4];
        for (int p = 0, q = 0; p < scene.Rgb.Length; p += 3, q += 4)
        {
            rgba[q] = scene.Rgb[p]; rgba[q + 1] = scene.Rgb[p + 1]; rgba[q + 2] = scene.Rgb[p + 2]; rgba[q + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var encoded = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        return encoded.ToArray();
    }
}
