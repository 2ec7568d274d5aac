namespace SpatialPrediction.ML.MLNet;

/// <summary>
/// The feature vector of a featuriser with <c>SpatialPyramid</c> on: the backbone's usual features followed by the
/// averages of the last feature map's four quadrants — the 1×1 and 2×2 levels of a spatial pyramid (He et al., SPP-net,
/// 2014). A linear probe on the average alone cannot tell where in the picture a feature fired; the quadrants keep that.
/// </summary>
internal static class SpatialPyramidPooling
{
    /// <summary>Quadrants after the usual features.</summary>
    public const int Regions = 4;

    /// <summary>Length of the pyramid vector for a backbone with <paramref name="featureDimension"/> features and <paramref name="channels"/> map channels.</summary>
    public static int Length(int featureDimension, int channels) => featureDimension + Regions * channels;

    /// <summary>
    /// Writes <paramref name="count"/> pyramid vectors into <paramref name="output"/> from the usual features
    /// [count·D] and the maps [count·C·H·W] (channel-major). An odd middle row or column belongs to both halves, as in
    /// adaptive average pooling to 2 × 2, so every quadrant is the same size.
    /// </summary>
    public static void Pool(ReadOnlySpan<float> pooled, int featureDimension, ReadOnlySpan<float> maps, (int Channels, int Height, int Width) shape,
        int count, Span<float> output)
    {
        var (c, h, w) = shape;
        int length = Length(featureDimension, c), mapLength = c * h * w;
        int topEnd = (h + 1) / 2, bottomStart = h / 2, leftEnd = (w + 1) / 2, rightStart = w / 2;
        Span<(int Top, int Bottom, int Left, int Right)> quadrants = stackalloc (int, int, int, int)[]
        {
            (0, topEnd, 0, leftEnd), (0, topEnd, rightStart, w), (bottomStart, h, 0, leftEnd), (bottomStart, h, rightStart, w),
        };
        for (int i = 0; i < count; i++)
        {
            var vector = output.Slice(i * length, length);
            pooled.Slice(i * featureDimension, featureDimension).CopyTo(vector);
            var map = maps.Slice(i * mapLength, mapLength);
            for (int q = 0; q < Regions; q++)
            {
                var (top, bottom, left, right) = quadrants[q];
                double scale = 1.0 / ((bottom - top) * (right - left));
                for (int k = 0; k < c; k++)
                {
                    double sum = 0;
                    for (int y = top; y < bottom; y++)
                    {
                        var row = map.Slice((k * h + y) * w, w);
                        for (int x = left; x < right; x++) sum += row[x];
                    }
                    vector[featureDimension + q * c + k] = (float)(sum * scale);
                }
            }
        }
    }
}
