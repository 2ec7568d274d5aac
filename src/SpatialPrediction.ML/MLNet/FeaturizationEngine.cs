namespace SpatialPrediction.ML;

/// <summary>What runs a float32 featuriser's backbone on the CPU.</summary>
public enum FeaturizationEngine
{
    /// <summary>
    /// Measured per machine and batch shape: the backbone's own ONNX export under ONNX Runtime when it is faster than
    /// libtorch and its features agree with libtorch's (relative 1e-4, the export's parity tolerance) on this backbone;
    /// libtorch otherwise. The timings are cached with the layout calibration.
    /// </summary>
    Auto = 0,

    /// <summary>libtorch (TorchSharp), with the layout calibration's choice and batch norms folded.</summary>
    LibTorch = 1,

    /// <summary>The backbone exported to ONNX and run by ONNX Runtime (CPU execution provider).</summary>
    OnnxRuntime = 2,
}
