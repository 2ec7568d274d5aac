using System.Diagnostics;
using SpatialPrediction.ML.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// One 3×3 convolution's forward and backward (batch 128, channels-last) by oneDNN and as <see cref="SmallMapConvolution"/>'s
/// matrix product, in float32 and bfloat16: <c>small-maps [CHANNELS SIDE]...</c>, e.g. <c>small-maps 512 2 256 4</c>.
/// Larger maps than the class takes are timed too, to show where it stops paying.
/// </summary>
internal static class SmallMapTiming
{
    public static int Run(string[] args)
    {
        var shapes = args.Length >= 2
            ? Enumerable.Range(0, args.Length / 2).Select(i => (int.Parse(args[2 * i]), int.Parse(args[2 * i + 1]))).ToList()
            : new List<(int, int)> { (512, 2), (512, 1), (256, 2), (256, 4) };
        Console.WriteLine("| channels, map | bfloat16: oneDNN | bfloat16: matrix | float32: oneDNN | float32: matrix |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (channels, side) in shapes)
        {
            var cells = new List<string>();
            foreach (var dtype in new[] { ScalarType.BFloat16, ScalarType.Float32 })
            {
                using var scope = NewDisposeScope();
                var conv = nn.Conv2d(channels, channels, 3, padding: 1, bias: false);
                conv.to(dtype);
                var input = randn(128, channels, side, side).to(dtype).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2).requires_grad_();
                var upstream = randn(128, channels, side, side).to(dtype).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
                cells.Add($"{Milliseconds(() => conv.forward(input), input, conv, upstream):F1}");
                cells.Add($"{Milliseconds(() => Matrix(conv, input), input, conv, upstream):F1}");
            }
            Console.WriteLine($"| {channels}, {side}×{side} | {string.Join(" | ", cells)} |");
        }
        return 0;
    }

    /// <summary>The matrix form even where <see cref="SmallMapConvolution.Applies"/> would decline the map (to show the cost).</summary>
    private static Tensor Matrix(TorchSharp.Modules.Conv2d conv, Tensor input) => SmallMapConvolution.Forward(conv, input);

    private static double Milliseconds(Func<Tensor> forward, Tensor input, TorchSharp.Modules.Conv2d conv, Tensor upstream)
    {
        void Pass()
        {
            using var scope = NewDisposeScope();
            forward().backward(new[] { upstream });
            input.grad = null;
            conv.weight!.grad = null;
        }
        for (int i = 0; i < 3; i++) Pass();
        var times = new List<double>();
        for (int i = 0; i < 10; i++)
        {
            var clock = Stopwatch.StartNew();
            Pass();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return Statistics.Median(times);
    }
}
