using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Machine;

/// <summary>
/// Chooses between libtorch and ONNX Runtime for a float32 featuriser on the CPU (<see cref="FeaturizationEngine.Auto"/>):
/// first both engines featurise one batch of this backbone, and ONNX Runtime is ruled out unless its features agree
/// within <see cref="Tolerance"/>; then, unless the cache knows the answer for this machine and shape, both are timed in
/// alternating passes and the faster one is kept.
/// </summary>
internal static class FeaturizationEngineCalibration
{
    /// <summary>Largest feature difference allowed, relative to the largest feature (the ONNX export's parity tolerance).</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Milliseconds per batch of one engine.</summary>
    public sealed record Timing(FeaturizationEngine Engine, double Milliseconds);

    /// <summary>The engine chosen, the timings, the features' relative difference and where the choice came from.</summary>
    public sealed record Choice(FeaturizationEngine Engine, IReadOnlyList<Timing> Timings, double RelativeDifference, bool Cached, string Reason = "")
    {
        public override string ToString() => Timings.Count == 0
            ? $"{Engine}{(Reason.Length > 0 ? $" ({Reason})" : "")}"
            : $"{Engine} ({string.Join(", ", Timings.Select(t => $"{t.Engine} {t.Milliseconds:F1} ms"))} per batch{(Cached ? ", cached" : ", measured")}; " +
              $"features agree to {RelativeDifference:E1})";
    }

    /// <summary>
    /// Chooses for batches of <paramref name="batch"/> images of <paramref name="size"/> px, given as featurisers hand
    /// them over: planar RGB bytes (<c>batch·3·size·size</c>) to each engine's featurising function.
    /// </summary>
    public static Choice Choose(Func<byte[], int, float[]> libTorch, Func<byte[], int, float[]> onnxRuntime, BackboneSpec spec, int batch, int size,
        string? cacheFolder = null)
    {
        using var scope = NewDisposeScope();
        // A fixed pattern rather than random pixels: the run's random stream is left alone.
        var images = new byte[batch * 3L * size * size];
        for (long i = 0; i < images.Length; i++) images[i] = (byte)(i % 251);
        float[] reference = libTorch(images, batch), candidate = onnxRuntime(images, batch);
        double scale = Math.Max(reference.Max(Math.Abs), 1e-6);
        double difference = reference.Zip(candidate, (a, b) => (double)Math.Abs(a - b)).Max() / scale;
        if (candidate.Length != reference.Length || !(difference <= Tolerance))
            return new Choice(FeaturizationEngine.LibTorch, Array.Empty<Timing>(), difference, false,
                $"ONNX Runtime's features differ by {difference:E1} relative, more than {Tolerance:E0}");

        string key = string.Join("|", CalibrationCache.MachineKey(), spec.Kind, spec.Width, spec.PatchSize, batch, size, "featurization-engine");
        var choice = CalibrationCache.GetOrMeasure("engines.json", key, cacheFolder, () =>
        {
            var engines = new[] { FeaturizationEngine.LibTorch, FeaturizationEngine.OnnxRuntime };
            var timings = AlternatingTimer.Medians(engines, engine => (engine == FeaturizationEngine.LibTorch ? libTorch : onnxRuntime)(images, batch), rounds: 5)
                .Select(t => new Timing(t.Candidate, t.Milliseconds)).ToList();
            return new Choice(timings.MinBy(t => t.Milliseconds)!.Engine, timings, difference, false);
        }, out bool cached);
        return choice with { Cached = cached, RelativeDifference = difference };
    }
}
