using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// Picks the device the way ML.NET's own TorchSharp trainers do: <c>MLContext.GpuDeviceId</c> asks for CUDA, and
/// <c>MLContext.FallbackToCpu</c> decides whether a missing GPU is an error. An explicit device string overrides both.
/// </summary>
internal static class TrainingDevice
{
    /// <summary>Resolves the device.</summary>
    /// <param name="requested">"cpu", "cuda" or "cuda:N"; null follows <paramref name="gpuDeviceId"/>.</param>
    /// <param name="gpuDeviceId">ML.NET's <c>MLContext.GpuDeviceId</c>.</param>
    /// <param name="fallbackToCpu">ML.NET's <c>MLContext.FallbackToCpu</c>.</param>
    /// <param name="cudaAvailable">Whether CUDA is usable; defaults to asking TorchSharp.</param>
    public static Device Resolve(string? requested, int? gpuDeviceId, bool fallbackToCpu, bool? cudaAvailable = null)
    {
        string wanted = requested?.Trim().ToLowerInvariant() ?? (gpuDeviceId is int id ? $"cuda:{id}" : "cpu");
        if (wanted == "cpu") return CPU;
        if (wanted != "cuda" && !wanted.StartsWith("cuda:", StringComparison.Ordinal))
            throw new ArgumentException($"Device '{requested}' is not recognised: use \"cpu\", \"cuda\" or \"cuda:N\".", nameof(requested));

        bool available = cudaAvailable ?? cuda.is_available();
        if (available) return new Device(wanted);
        if (fallbackToCpu) return CPU;
        throw new InvalidOperationException(
            $"Device '{wanted}' was requested but CUDA is not available (is a TorchSharp CUDA package, e.g. TorchSharp-cuda-linux " +
            "or TorchSharp-cuda-windows, referenced by the application, and is a GPU present?). Set MLContext.FallbackToCpu = true " +
            "to train on the CPU instead.");
    }
}
