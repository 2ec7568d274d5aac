using static TorchSharp.torch;

namespace SpatialPrediction.ML.Views;

/// <summary>
/// Per-sample colour jitter (brightness, contrast, saturation), random grayscale and Gaussian blur on a batch of
/// images in [0, 1], with every random choice drawn from a seeded <see cref="Random"/> so runs repeat exactly.
/// Each call draws fresh parameters for every sample, which is what makes two views of one image photometrically
/// independent.
/// </summary>
internal sealed record PhotometricAugmentation
{
    /// <summary>Probability of applying colour jitter to a sample.</summary>
    public float JitterProbability { get; init; } = 0.8f;
    /// <summary>Brightness factor drawn from [1 - b, 1 + b].</summary>
    public float Brightness { get; init; } = 0.4f;
    /// <summary>Contrast factor drawn from [1 - c, 1 + c].</summary>
    public float Contrast { get; init; } = 0.4f;
    /// <summary>Saturation factor drawn from [1 - s, 1 + s].</summary>
    public float Saturation { get; init; } = 0.4f;
    /// <summary>Hue rotation drawn from [-h, h] turns of the colour wheel (SimCLR: 0.1).</summary>
    public float Hue { get; init; } = 0.1f;
    /// <summary>Probability of turning a sample gray.</summary>
    public float GrayscaleProbability { get; init; } = 0.2f;
    /// <summary>Probability of blurring a sample.</summary>
    public float BlurProbability { get; init; }
    /// <summary>Largest blur sigma, in pixels of the view (smallest is 0.1).</summary>
    public float MaxBlurSigma { get; init; } = 1.5f;

    /// <summary>No photometric change at all.</summary>
    public static PhotometricAugmentation Identity { get; } = new()
    {
        JitterProbability = 0, GrayscaleProbability = 0, BlurProbability = 0,
    };

    /// <summary>Returns augmented copies of <paramref name="images"/> ([B, 3, H, W], values in [0, 1]).</summary>
    public Tensor Apply(Tensor images, Random random) => Apply(images, Draw(images.shape[0], random));

    /// <summary>Draws the per-sample parameters of one call for a batch of <paramref name="batch"/> images.</summary>
    internal PhotometricParameters Draw(long batch, Random random)
    {
        var drawn = new PhotometricParameters(batch);
        for (int i = 0; i < batch; i++)
        {
            bool jitter = random.NextSingle() < JitterProbability;
            drawn.Brightness[i] = jitter ? 1 + Brightness * (2 * random.NextSingle() - 1) : 1;
            drawn.Contrast[i] = jitter ? 1 + Contrast * (2 * random.NextSingle() - 1) : 1;
            drawn.Saturation[i] = jitter ? 1 + Saturation * (2 * random.NextSingle() - 1) : 1;
            HueRotation(jitter ? Hue * (2 * random.NextSingle() - 1) : 0, drawn.HueRotation.AsSpan(i * 9, 9));
            drawn.Gray[i] = random.NextSingle() < GrayscaleProbability ? 1 : 0;
            drawn.BlurSigma[i] = random.NextSingle() < BlurProbability ? 0.1f + (MaxBlurSigma - 0.1f) * random.NextSingle() : 0;
        }
        return drawn;
    }

    /// <summary>Applies drawn parameters: brightness, contrast, saturation, hue rotation, grayscale, then blur.</summary>
    internal static Tensor Apply(Tensor images, PhotometricParameters parameters)
    {
        long batch = images.shape[0];
        if (parameters.Count != batch)
            throw new ArgumentException($"Got photometric parameters for {parameters.Count} images and a batch of {batch}.", nameof(parameters));
        using var scope = NewDisposeScope();
        var shape = new long[] { batch, 1, 1, 1 };
        Tensor Factor(float[] values) => tensor(values, shape, dtype: images.dtype, device: images.device);

        var x = images * Factor(parameters.Brightness);
        var luma = Luma(x);
        x = (x - luma.mean(new long[] { 1, 2, 3 }, keepdim: true)) * Factor(parameters.Contrast) + luma.mean(new long[] { 1, 2, 3 }, keepdim: true);
        x = x.clamp(Backbones.ProcessScalars.Zero, Backbones.ProcessScalars.One);
        luma = Luma(x);
        x = ((x - luma) * Factor(parameters.Saturation) + luma).clamp(Backbones.ProcessScalars.Zero, Backbones.ProcessScalars.One);
        var rotation = tensor(parameters.HueRotation, new long[] { batch, 3, 3 }, dtype: images.dtype, device: images.device);
        x = einsum("bij,bjhw->bihw", rotation, x).clamp(Backbones.ProcessScalars.Zero, Backbones.ProcessScalars.One);
        var grayMask = Factor(parameters.Gray);
        x = x * (1 - grayMask) + Luma(x) * grayMask;
        if (parameters.BlurSigma.Any(s => s > 0)) x = Blur(x, parameters.BlurSigma);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Hue rotation by <paramref name="turns"/> of a full turn as one 3×3 RGB matrix: rotate the chroma plane of YIQ
    /// and come back (a linear stand-in for HSV hue shifts that runs as one batched matrix product).
    /// </summary>
    internal static void HueRotation(float turns, Span<float> matrix)
    {
        if (turns == 0)
        {
            // Exactly the identity: the rounded YIQ constants would otherwise nudge untouched samples by ~1e-3.
            matrix.Clear();
            matrix[0] = matrix[4] = matrix[8] = 1;
            return;
        }
        float cos = MathF.Cos(2 * MathF.PI * turns), sin = MathF.Sin(2 * MathF.PI * turns);
        ReadOnlySpan<float> toYiq = stackalloc float[] { 0.299f, 0.587f, 0.114f, 0.596f, -0.274f, -0.322f, 0.211f, -0.523f, 0.312f };
        ReadOnlySpan<float> fromYiq = stackalloc float[] { 1f, 0.956f, 0.621f, 1f, -0.272f, -0.647f, 1f, -1.106f, 1.703f };
        Span<float> rotate = stackalloc float[] { 1, 0, 0, 0, cos, -sin, 0, sin, cos };
        Span<float> rotated = stackalloc float[9];
        Multiply(rotate, toYiq, rotated);
        Multiply(fromYiq, rotated, matrix);
    }

    private static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> result)
    {
        for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            result[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
    }

    /// <summary>ITU-R 601 luma, kept as [B, 1, H, W] so it broadcasts over the channels.</summary>
    static Tensor Luma(Tensor x) =>
        x[.., 0..1] * 0.299f + x[.., 1..2] * 0.587f + x[.., 2..3] * 0.114f;

    /// <summary>Per-sample Gaussian blur as one grouped convolution; sigma 0 leaves a sample unchanged.</summary>
    static Tensor Blur(Tensor x, float[] sigmas)
    {
        const int radius = 2, size = 2 * radius + 1;
        long batch = x.shape[0], channels = x.shape[1];
        var kernels = new float[batch * channels * size * size];
        for (int b = 0; b < batch; b++)
        {
            var k1 = new float[size];
            if (sigmas[b] <= 0) k1[radius] = 1;
            else
            {
                float sum = 0;
                for (int i = 0; i < size; i++) sum += k1[i] = MathF.Exp(-(i - radius) * (i - radius) / (2 * sigmas[b] * sigmas[b]));
                for (int i = 0; i < size; i++) k1[i] /= sum;
            }
            for (int c = 0; c < channels; c++)
            for (int i = 0; i < size; i++)
            for (int j = 0; j < size; j++)
                kernels[((b * channels + c) * size + i) * size + j] = k1[i] * k1[j];
        }
        var weight = tensor(kernels, new long[] { batch * channels, 1, size, size }, dtype: x.dtype, device: x.device);
        var padded = nn.functional.pad(x.reshape(1, batch * channels, x.shape[2], x.shape[3]),
            new long[] { radius, radius, radius, radius }, TorchSharp.PaddingModes.Replicate);
        var blurred = nn.functional.conv2d(padded, weight, groups: batch * channels);
        return blurred.reshape(x.shape);
    }
}
