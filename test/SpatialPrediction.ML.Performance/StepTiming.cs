using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// One training workload's img/s with the run's log (the calibration's choice and timings), for back-to-back A/B runs
/// of two workloads without the whole report: <c>step simclr|dino sp|nosp SIZE fp32|bf16 STEPS [LAYOUT]</c>.
/// </summary>
internal static class StepTiming
{
    public static int Run(string[] args)
    {
        if (args.Length < 5)
        {
            Console.Error.WriteLine("Usage: step simclr|dino sp|nosp SIZE fp32|bf16 STEPS [Auto|ChannelsFirst|ChannelsLast]");
            return 2;
        }
        var workload = new TrainingWorkload(args[0] == "dino" ? SslFramework.Dino : SslFramework.SimClr, args[1] == "sp", int.Parse(args[2]), 64,
            args[3] == "bf16");
        var layout = args.Length > 5 ? Enum.Parse<ConvolutionLayout>(args[5]) : ConvolutionLayout.Auto;
        double rate = TrainingThroughput.ImagesPerSecond(workload, int.Parse(args[4]), 3, layout,
            log: line => { if (line.StartsWith("Convolution layout", StringComparison.Ordinal)) Console.WriteLine(line); });
        Console.WriteLine($"{workload.Name}, {workload.ImageSize} px: {rate:F1} img/s");
        return 0;
    }
}
