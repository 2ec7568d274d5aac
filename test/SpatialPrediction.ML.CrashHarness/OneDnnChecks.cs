using System.Security.Cryptography;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Machine;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Training;
using static TorchSharp.torch;

/// <summary>
/// The child process of the oneDNN tests (test/SpatialPrediction.ML.Tests/Machine/OneDnnSafeModeProcessTests.cs): the
/// mode this process chose, then the trainings that crashed or diverged on processors that hide their cache sizes, each
/// result one "key: value" line for the parent to assert on.
/// </summary>
internal static class OneDnnChecks
{
    public static int Run()
    {
        var mode = OneDnnMode.Current;
        Console.Out.WriteLine($"safe mode: {mode.SafeMode}");
        Console.Out.WriteLine($"reason: {mode.Reason}");
        set_num_threads(2); // two threads: the setting under which wrong blocking gave run-to-run different losses

        var scenes = SpatialPrediction.ML.Data.SpatialScenes.Generate(32, new SpatialPrediction.ML.Data.SpatialScenesOptions { ImageSize = 32, Seed = 3 });
        using var images = tensor(scenes.SelectMany(s => s.Rgb).ToArray(), new long[] { scenes.Count, 32, 32, 3 }, dtype: ScalarType.Byte)
            .permute(0, 3, 1, 2).contiguous();
        var settings = new PretrainingSettings
        {
            Framework = SslFramework.SimClr,
            BackboneWidth = 4,
            SpatialPrediction = new SpatialPredictionSettings { LocalResolution = 16, HeadWidth = 16 },
            ImageSize = 32,
            BatchSize = 8,
            Epochs = 1,
            Seed = 7,
            ValidationFraction = 0,
        };
        var (firstWeights, firstHistory) = Train(images, settings);
        var (secondWeights, secondHistory) = Train(images, settings);
        Console.Out.WriteLine($"history mode: {firstHistory.OneDnnMode.SafeMode}");
        Console.Out.WriteLine($"losses: {string.Join(" ", firstHistory.Steps.Select(s => s.TotalLoss.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}");
        Console.Out.WriteLine($"finite: {firstHistory.Steps.All(s => float.IsFinite(s.TotalLoss))}");
        Console.Out.WriteLine($"identical: {firstWeights.AsSpan().SequenceEqual(secondWeights) && firstHistory.Steps.Select(s => s.TotalLoss).SequenceEqual(secondHistory.Steps.Select(s => s.TotalLoss))}");
        Console.Out.WriteLine($"weights: {Convert.ToHexString(SHA256.HashData(firstWeights))}");

        manual_seed(1);
        using var resnet = BackboneFactory.Create(new BackboneSpec(BackboneKind.ResNet50, Width: 32, PatchSize: 8, ImageSize: 64));
        using (NewDisposeScope())
        {
            var features = resnet.forward(rand(2, 3, 64, 64));
            features.square().mean().backward();
            bool finite = features.isfinite().all().item<bool>()
                          && resnet.parameters().All(p => p.grad is null || p.grad.isfinite().all().item<bool>());
            Console.Out.WriteLine($"resnet50 {string.Join("x", features.shape)} finite: {finite}");
        }
        return 0;
    }

    private static (byte[] Weights, PretrainingHistory History) Train(Tensor images, PretrainingSettings settings)
    {
        var result = SpatialPretrainer.Train(images, settings, CPU);
        using var backbone = result.Backbone;
        using var bytes = new MemoryStream();
        foreach (var (name, value) in backbone.state_dict().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            bytes.Write(System.Text.Encoding.UTF8.GetBytes(name));
            bytes.Write(value.contiguous().cpu().bytes);
        }
        return (bytes.ToArray(), result.History);
    }
}
