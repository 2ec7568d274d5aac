using static TorchSharp.torch;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// The machine's practical float32 ceiling: GFLOP/s of a square matrix product (2n³ operations) through libtorch's BLAS
/// with the intra-op threads the models use. A convolutional network cannot beat it, so it scales every training row.
/// In bfloat16 it is what libtorch's reduced-precision kernels reach on the machine, next to the peak the hardware
/// promises.
/// </summary>
internal static class MatmulCeiling
{
    public static double GigaflopsPerSecond(int n = 2048, int repeats = 5, ScalarType dtype = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        var a = randn(n, n, dtype: dtype);
        var b = randn(n, n, dtype: dtype);
        double seconds = Statistics.MedianSeconds(() => a.matmul(b).Dispose(), repeats); // warm-up run: thread pool, BLAS buffers
        return 2.0 * n * n * n / seconds / 1e9;
    }
}
