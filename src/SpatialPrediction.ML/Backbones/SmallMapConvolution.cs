using System.Collections.Concurrent;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// A 3×3 convolution (padding 1) on a feature map of a few pixels, computed as one matrix product: on an H×W map the
/// convolution is a linear map from the H·W·C input values to the Ho·Wo·O outputs, and its matrix is the kernel's taps
/// gathered per (input pixel, output pixel) pair, zero where the pair is out of the kernel's reach. At 2×2 and 1×1 —
/// ResNet's last stages on 32–64 px views — that product takes fewer multiply-adds than the convolution itself (16
/// against 36 per image and channel pair at 2×2, 1 against 9 at 1×1), and it and its two backward products run at
/// matmul speed, where oneDNN's weight-gradient kernels for such maps use little of the machine, in bfloat16 most of
/// all (docs/performance.md). Autograd differentiates the gather, so the kernel's gradient is the sum over its taps,
/// as the convolution's is. Used only where the layout calibration measured it faster.
/// </summary>
internal static class SmallMapConvolution
{
    /// <summary>The largest input map (in pixels) computed as a matrix product; from 3×3 on it takes as many multiply-adds as the convolution or more.</summary>
    public const int MaxInputPixels = 4;

    private static readonly ConcurrentDictionary<(long Height, long Width, long Stride), long[]> TapIndices = new();

    /// <summary>Whether <paramref name="conv"/> on <paramref name="input"/> (channels-last, on the CPU) is one this class computes.</summary>
    public static bool Applies(Conv2d conv, Tensor input)
        => input.device_type == TorchSharp.DeviceType.CPU && input.dim() == 4 && input.shape[2] * input.shape[3] <= MaxInputPixels
           && input.permute(0, 2, 3, 1).is_contiguous()
           && conv.bias is null && conv.weight is { } w && w.shape[2] == 3 && w.shape[3] == 3 && w.shape[1] == input.shape[1]
           && conv.padding is [1, 1] && conv.stride is [var sh, var sw] && sh == sw && conv.dilation is [1, 1] && conv.groups == 1;

    /// <summary><paramref name="conv"/> applied to <paramref name="input"/>; the result has channels-last strides.</summary>
    public static Tensor Forward(Conv2d conv, Tensor input)
    {
        var weight = conv.weight!;
        long n = input.shape[0], channels = input.shape[1], height = input.shape[2], width = input.shape[3], outChannels = weight.shape[0];
        long stride = conv.stride![0];
        long outHeight = (height - 1) / stride + 1, outWidth = (width - 1) / stride + 1;
        var index = TapIndices.GetOrAdd((height, width, stride), key => Taps(key.Height, key.Width, key.Stride));
        using var scope = NewDisposeScope();
        // Taps as rows of (input channel, output channel) matrices, and a zero row for pairs the kernel does not reach.
        var taps = weight.permute(2, 3, 1, 0).reshape(9, channels, outChannels);
        taps = cat(new[] { taps, zeros(1, channels, outChannels, dtype: weight.dtype, device: weight.device) }, 0);
        using var indexTensor = tensor(index, device: weight.device);
        var matrix = taps.index_select(0, indexTensor).view(height * width, outHeight * outWidth, channels, outChannels)
            .permute(0, 2, 1, 3).reshape(height * width * channels, outHeight * outWidth * outChannels);
        var flat = input.permute(0, 2, 3, 1).reshape(n, height * width * channels);
        return flat.mm(matrix).view(n, outHeight, outWidth, outChannels).permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }

    /// <summary>For each (input pixel, output pixel) pair, in that order, the 3×3 tap joining them or 9 (none).</summary>
    private static long[] Taps(long height, long width, long stride)
    {
        long outHeight = (height - 1) / stride + 1, outWidth = (width - 1) / stride + 1;
        var taps = new List<long>();
        for (long i = 0; i < height; i++)
        for (long j = 0; j < width; j++)
        for (long oi = 0; oi < outHeight; oi++)
        for (long oj = 0; oj < outWidth; oj++)
        {
            long kh = i - oi * stride + 1, kw = j - oj * stride + 1;
            taps.Add(kh is >= 0 and < 3 && kw is >= 0 and < 3 ? kh * 3 + kw : 9);
        }
        return taps.ToArray();
    }
}
