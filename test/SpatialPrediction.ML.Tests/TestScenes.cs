using Microsoft.ML;
using SpatialPrediction.ML.Data;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests;

/// <summary>Small, fast SpatialScenes sets shared by the training tests.</summary>
internal static class TestScenes
{
    public const int ImageSize = 32;

    /// <summary>Scenes as a byte tensor [N, 3, S, S], the engine's input format.</summary>
    public static Tensor Tensor(int count, int seed = 1)
    {
        var scenes = SpatialScenes.Generate(count, new SpatialScenesOptions { ImageSize = ImageSize, Seed = seed });
        int plane = ImageSize * ImageSize;
        var bytes = new byte[count * 3 * plane];
        for (int i = 0; i < count; i++)
        for (int p = 0; p < plane; p++)
        for (int c = 0; c < 3; c++)
            bytes[(i * 3 + c) * plane + p] = scenes[i].Rgb[p * 3 + c];
        return tensor(bytes, new long[] { count, 3, ImageSize, ImageSize }, dtype: ScalarType.Byte);
    }

    public static IDataView DataView(MLContext mlContext, int count, int seed = 1, int classCount = 8)
        => SpatialScenes.GenerateDataView(mlContext, count,
            new SpatialScenesOptions { ImageSize = ImageSize, Seed = seed, ClassCount = classCount });
}
