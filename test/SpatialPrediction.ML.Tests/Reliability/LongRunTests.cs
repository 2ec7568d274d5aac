using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Training;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Reliability;

/// <summary>
/// Long runs on a small scale: 1000 training steps and 10 000 featurised images. Resident memory (managed and native
/// together), open file descriptors, threads and live TorchSharp tensors are sampled along the way and must not grow
/// after warm-up.
/// </summary>
[NonParallelizable]
public class LongRunTests
{
    private sealed record Sample(long Resident, long Managed, int Descriptors, int Threads, long Tensors);

    private static Sample Measure()
    {
        using var process = Process.GetCurrentProcess();
        int descriptors = Directory.Exists("/proc/self/fd") ? Directory.GetFiles("/proc/self/fd").Length : -1;
        return new Sample(process.WorkingSet64, GC.GetTotalMemory(false), descriptors, process.Threads.Count, Tensor.TotalCount);
    }

    private static void ExpectFlat(string what, IReadOnlyList<Sample> samples)
    {
        // Steady state (after the first quarter) against the end: a leak of per-step tensors would add megabytes.
        var settled = samples.Skip(samples.Count / 4).Take(3).ToList();
        var last = samples.TakeLast(3).ToList();
        long settledResident = settled.Max(s => s.Resident), lastResident = last.Max(s => s.Resident);
        double drift = (lastResident - settledResident) / (double)settledResident;
        TestContext.Out.WriteLine($"{what}: RSS {settledResident / 1e6:F1} → {lastResident / 1e6:F1} MB ({drift:+0.0%;-0.0%}), " +
                                  $"managed {settled.Max(s => s.Managed) / 1e6:F1} → {last.Max(s => s.Managed) / 1e6:F1} MB, " +
                                  $"fds {settled[0].Descriptors} → {last[^1].Descriptors}, threads {settled[0].Threads} → {last[^1].Threads}, " +
                                  $"live tensors {settled[0].Tensors} → {last[^1].Tensors}");
        drift.Should().BeLessThan(0.05, $"{what}: resident memory must stay flat");
        last[^1].Descriptors.Should().BeLessThanOrEqualTo(settled[0].Descriptors + 2, $"{what}: file descriptors must not accumulate");
        last[^1].Threads.Should().BeLessThanOrEqualTo(settled[0].Threads + 2, $"{what}: threads must not accumulate");
        // Undisposed tensors only wait for the finalizer, so RSS can look flat while they pile up: count them.
        last[^1].Tensors.Should().BeLessThanOrEqualTo(settled[0].Tensors + 10, $"{what}: every tensor made per step or batch must be disposed");
    }

    [Test]
    public void A_thousand_training_steps_keep_memory_descriptors_and_threads_flat()
    {
        // The smallest run that still exercises every path (SimCLR + SP, loader thread, optimiser): 16 px, batch 4.
        using var images = TestScenes.Tensor(32).narrow(2, 0, 16).narrow(3, 0, 16).contiguous();
        var samples = new List<Sample>();
        var settings = new PretrainingSettings
        {
            Framework = SslFramework.SimClr,
            BackboneWidth = 4,
            ImageSize = 16,
            Epochs = 125, // 8 steps an epoch: 1000 steps
            BatchSize = 4,
            ValidationFraction = 0,
            SpatialPrediction = new SpatialPredictionSettings { LocalResolution = 16, HeadWidth = 16 },
            Progress = new SynchronousProgress<PretrainingProgress>(p => { if (p.Step % 50 == 0) samples.Add(Measure()); }),
        };

        var result = SpatialPretrainer.Train(images, settings, CPU);
        result.Backbone.Dispose();

        result.History.Steps.Should().HaveCount(1000);
        ExpectFlat("1000 training steps", samples);
    }

    [Test]
    public void Featurising_ten_thousand_images_keeps_memory_descriptors_and_threads_flat()
    {
        var mlContext = new MLContext(1);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        var data = TestScenes.DataView(mlContext, 500);
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone).Fit(data);
        var samples = new List<Sample>();
        float checksum = 0;

        for (int round = 0; round < 20; round++) // 20 × 500 images through the ML.NET cursor
        {
            var features = featurizer.Transform(data).GetColumn<float[]>("Features");
            foreach (var vector in features) checksum += vector[0];
            samples.Add(Measure());
        }

        float.IsFinite(checksum).Should().BeTrue();
        ExpectFlat("10 000 featurised images", samples);
    }
}
