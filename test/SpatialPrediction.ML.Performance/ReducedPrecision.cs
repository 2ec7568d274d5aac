using System.Diagnostics;
using SpatialPrediction.ML.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// bfloat16 against float32 for featurising (issue 20): the ImageNet ResNet-18 at 224 px, batch 32, its folded
/// inference copy cast to bfloat16 (weights and activations; input cast, features cast back to float32), alternating
/// rounds; with the features' largest difference and cosine similarity to float32.
/// </summary>
internal static class ReducedPrecision
{
    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0]) : 5;
        using var backbone = SpatialBackbone.ImageNetResNet18();
        manual_seed(1);
        using var images = rand(32, 3, 224, 224);
        var fp32 = backbone.Featurization.InferenceModule(32, ComputePrecision.Float32);
        var bf16 = backbone.Featurization.InferenceModule(32, ComputePrecision.BFloat16);
        float[] Features(BackboneModule module, ScalarType type)
        {
            using var scope = NewDisposeScope();
            using var mode = inference_mode();
            return module.forward(images.to(type)).to(ScalarType.Float32).data<float>().ToArray();
        }
        var reference = Features(fp32, ScalarType.Float32);
        var reduced = Features(bf16, ScalarType.BFloat16);
        double dot = 0, na = 0, nb = 0, maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            dot += reference[i] * reduced[i]; na += reference[i] * reference[i]; nb += reduced[i] * reduced[i];
            maxDiff = Math.Max(maxDiff, Math.Abs(reference[i] - reduced[i])); maxAbs = Math.Max(maxAbs, Math.Abs(reference[i]));
        }
        var fpRounds = new List<double>();
        var bfRounds = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            fpRounds.Add(ImagesPerSecond(() => Features(fp32, ScalarType.Float32)));
            bfRounds.Add(ImagesPerSecond(() => Features(bf16, ScalarType.BFloat16)));
        }
        Console.WriteLine($"| ResNet-18 224 px batch 32 | float32 {Statistics.Median(fpRounds):F1} img/s | bfloat16 {Statistics.Median(bfRounds):F1} img/s | " +
                          $"{Statistics.Median(bfRounds) / Statistics.Median(fpRounds):F2}× | max |Δ| {maxDiff:F3} (largest feature {maxAbs:F2}) | cosine {dot / Math.Sqrt(na * nb):F5} |");
        return 0;
    }

    private static double ImagesPerSecond(Action featurize)
    {
        featurize();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 3; i++) featurize();
        return 3 * 32 / clock.Elapsed.TotalSeconds;
    }
}
