using Microsoft.ML.Data;
using SkiaSharp;
using SpatialPrediction.ML.MLNet;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>The corruptions of the robustness evaluation (after ImageNet-C, with strengths sized for small images).</summary>
public enum CorruptionKind
{
    /// <summary>Additive Gaussian noise, σ 0.04–0.26 of the value range.</summary>
    GaussianNoise = 0,
    /// <summary>Gaussian blur, σ 0.5–2.5 px at 32 px (scaled with the image).</summary>
    GaussianBlur = 1,
    /// <summary>Contrast reduced to 40 %–5 % around the mean.</summary>
    Contrast = 2,
    /// <summary>JPEG re-encoding at quality 25–7.</summary>
    Jpeg = 3,
    /// <summary>Brightness raised by 0.1–0.5 of the value range.</summary>
    Brightness = 4,
    /// <summary>A mid-gray square over 5 %–30 % of the image at a random place.</summary>
    Occlusion = 5,
}

public static partial class SpatialEvaluation
{
    private static readonly double[] NoiseSigma = { 0.04, 0.08, 0.12, 0.18, 0.26 };
    private static readonly double[] BlurSigma = { 0.5, 0.8, 1.2, 1.8, 2.5 };
    private static readonly double[] ContrastFactor = { 0.4, 0.3, 0.2, 0.1, 0.05 };
    private static readonly int[] JpegQuality = { 25, 18, 15, 10, 7 };
    private static readonly double[] BrightnessShift = { 0.1, 0.2, 0.3, 0.4, 0.5 };
    private static readonly double[] OcclusionArea = { 0.05, 0.1, 0.15, 0.2, 0.3 };

    /// <summary>Severities other than 0.</summary>
    public static IReadOnlyList<int> CorruptionSeverities { get; } = new[] { 1, 2, 3, 4, 5 };

    /// <summary>The corrupted copy of <paramref name="image"/>.</summary>
    /// <remarks>
    /// Applies a corruption at a severity from 0 (the image unchanged) to 5, deterministically from a seed, to an ML.NET
    /// image; returns a new image.
    /// </remarks>
    public static MLImage Corrupt(MLImage image, CorruptionKind kind, int severity, int seed = 0)
    {
        if (severity < 0 || severity > 5) throw new ArgumentOutOfRangeException(nameof(severity), severity, "Severity must be between 0 and 5.");
        var (planes, height, width) = ImageColumn.ToNativePlanes(image, "(image)", 0, nameof(Corrupt));
        if (severity == 0) return FromPlanes(planes, height, width);
        int s = severity - 1;
        var random = new Random(seed);
        var values = planes.Select(b => b / 255.0).ToArray();
        int plane = height * width;
        switch (kind)
        {
            case CorruptionKind.GaussianNoise:
                for (int i = 0; i < values.Length; i++) values[i] += NoiseSigma[s] * Gaussian(random);
                break;
            case CorruptionKind.GaussianBlur:
                values = Blur(values, height, width, BlurSigma[s] * Math.Max(height, width) / 32.0);
                break;
            case CorruptionKind.Contrast:
                for (int c = 0; c < 3; c++)
                {
                    double mean = values.Skip(c * plane).Take(plane).Average();
                    for (int i = c * plane; i < (c + 1) * plane; i++) values[i] = (values[i] - mean) * ContrastFactor[s] + mean;
                }
                break;
            case CorruptionKind.Brightness:
                for (int i = 0; i < values.Length; i++) values[i] += BrightnessShift[s];
                break;
            case CorruptionKind.Occlusion:
            {
                int side = (int)Math.Round(Math.Sqrt(OcclusionArea[s] * plane));
                int top = random.Next(0, height - side + 1), left = random.Next(0, width - side + 1);
                for (int c = 0; c < 3; c++)
                for (int y = top; y < top + side; y++)
                for (int x = left; x < left + side; x++)
                    values[c * plane + y * width + x] = 0.5;
                break;
            }
            case CorruptionKind.Jpeg:
                return Jpeg(planes, height, width, JpegQuality[s]);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown corruption.");
        }
        return FromPlanes(values.Select(v => (byte)Math.Clamp(Math.Round(v * 255), 0, 255)).ToArray(), height, width);
    }

    private static double Gaussian(Random random)
        => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static double[] Blur(double[] values, int height, int width, double sigma)
    {
        int radius = Math.Max(1, (int)Math.Ceiling(3 * sigma));
        var kernel = Enumerable.Range(-radius, 2 * radius + 1).Select(k => Math.Exp(-k * k / (2 * sigma * sigma))).ToArray();
        double total = kernel.Sum();
        for (int k = 0; k < kernel.Length; k++) kernel[k] /= total;
        int plane = height * width;
        var horizontal = new double[values.Length];
        var result = new double[values.Length];
        for (int c = 0; c < 3; c++)
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            double h = 0;
            for (int k = -radius; k <= radius; k++) h += kernel[k + radius] * values[c * plane + y * width + Math.Clamp(x + k, 0, width - 1)];
            horizontal[c * plane + y * width + x] = h;
        }
        for (int c = 0; c < 3; c++)
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            double v = 0;
            for (int k = -radius; k <= radius; k++) v += kernel[k + radius] * horizontal[c * plane + Math.Clamp(y + k, 0, height - 1) * width + x];
            result[c * plane + y * width + x] = v;
        }
        return result;
    }

    private static MLImage Jpeg(byte[] planes, int height, int width, int quality)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        int plane = height * width;
        var rgba = Interleave(planes, plane);
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var encoded = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality);
        using var stream = new MemoryStream(encoded.ToArray());
        return MLImage.CreateFromStream(stream);
    }

    private static byte[] Interleave(byte[] planes, int plane)
    {
        var rgba = new byte[plane * 4];
        for (int p = 0; p < plane; p++)
        {
            rgba[4 * p] = planes[p];
            rgba[4 * p + 1] = planes[plane + p];
            rgba[4 * p + 2] = planes[2 * plane + p];
            rgba[4 * p + 3] = 255;
        }
        return rgba;
    }

    private static MLImage FromPlanes(byte[] planes, int height, int width)
        => MLImage.CreateFromPixels(width, height, MLPixelFormat.Rgba32, Interleave(planes, height * width));
}
