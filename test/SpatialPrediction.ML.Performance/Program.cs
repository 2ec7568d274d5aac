// Performance benchmarks. Usage (from the repository root):
//   dotnet run -c Release --project test/SpatialPrediction.ML.Performance -- report [--quick] [--out FILE] [AREA...]
//       one Markdown table, every row measured in this run; AREA: ceiling, training, featurization, pipeline, memory
//       (default: all). --quick cuts steps and images for a smoke run; its numbers are noisier.
//   dotnet run -c Release --project test/SpatialPrediction.ML.Performance -- micro [BenchmarkDotNet arguments]
//       BenchmarkDotNet micro-benchmarks of the hot spots (e.g. --filter '*ViewMaking*').
//   dotnet run -c Release --project test/SpatialPrediction.ML.Performance -- streaming [N...] [Auto|Memory|Disk...] [--steps K]
//       peak memory of Fit against the number of pictures (each size in its own process).
//   dotnet run -c Release --project test/SpatialPrediction.ML.Performance -- write-jpegs FOLDER N
//       writes N JPEG files (400×320 and 320×400 scenes) for the next mode; never commit them.
//   dotnet run -c Release --project test/SpatialPrediction.ML.Performance -- jpeg-training FOLDER [--epochs 2] [--cache Auto|Memory|Disk|None] [--prefetch N] [--steps K]
//       SimCLR + SP from the folder, resident memory after every step and its trend across the epochs.
//   dotnet run -c Release --project test/SpatialPrediction.ML.Performance -- step simclr|dino sp|nosp SIZE fp32|bf16 STEPS [LAYOUT]
//       one training workload's img/s and the layout calibration's choice, for back-to-back A/B runs.
//   dotnet run -c Release --project test/SpatialPrediction.ML.Performance -- small-maps [CHANNELS SIDE]...
//       one 3×3 convolution's forward and backward by oneDNN and as a matrix product (SmallMapConvolution).
//   dotnet run -c Release --project test/SpatialPrediction.ML.Performance -- precision [ROUNDS]
//       bfloat16 against float32 featurisation of the ImageNet ResNet-18 (speed, feature difference).
//   dotnet run -c Release --project test/SpatialPrediction.ML.Performance -- memory-child featurization|training N
//       one memory-drift run (N images or steps) in this process, its result as one JSON line; the report runs each so.
//   dotnet run -c Release --project test/SpatialPrediction.ML.Performance -- featurize-batch [IMAGES] [ROUNDS] [OnnxRuntime|LibTorch]
//       batch-32 featurising by one engine against ONNX Runtime alone, and the rows' reading time, alternating.
//   dotnet run -c Release --project test/SpatialPrediction.ML.Performance -- ort-variants [IMAGES] [ROUNDS] [RUN-SIZE|OPTION...]
//       ONNX Runtime alone on ready pixels: runs of other sizes, or one session option set, against its defaults at batch 32.
using BenchmarkDotNet.Running;
using SpatialPrediction.ML.Performance;

string mode = args.Length > 0 ? args[0] : "report";
switch (mode)
{
    case "report":
        return PerformanceReport.Run(args[1..]);
    case "precision":
        return ReducedPrecision.Run(args[1..]);
    case "streaming":
        return StreamingMemory.Run(args[1..]);
    case "memory-child":
        return MemoryDrift.Child(args[1..]);
    case "streaming-child":
        return StreamingMemory.Child(args[1..]);
    case "write-jpegs":
        return JpegFolderTraining.Write(args[1..]);
    case "jpeg-training":
        return JpegFolderTraining.Train(args[1..]);
    case "step":
        return StepTiming.Run(args[1..]);
    case "featurize-batch":
        return BatchFeaturizationTiming.Run(args[1..]);
    case "ort-variants":
        return SessionVariantTiming.Run(args[1..]);
    case "small-maps":
        return SmallMapTiming.Run(args[1..]);
    case "micro":
        BenchmarkSwitcher.FromAssembly(typeof(PerformanceReport).Assembly).Run(args[1..]);
        return 0;
    default:
        Console.Error.WriteLine($"Unknown mode '{mode}'. Use 'report [--quick] [--out FILE] [AREA...]' or 'micro [BenchmarkDotNet arguments]'.");
        return 2;
}
