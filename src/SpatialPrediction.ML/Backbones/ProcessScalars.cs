using TorchSharp;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// Scalars that live as long as the process, for the operations that run on every batch. A number converted to a
/// <see cref="Scalar"/> implicitly is left to the finalizer, which TorchSharp 0.107 can run while libtorch still reads
/// it ("Unknown scalar type"; TorchSharp PR #1434): it ended two of the project's experiment runs.
/// </summary>
internal static class ProcessScalars
{
    /// <summary>255, the largest byte: pixel bytes divided by it lie in [0, 1].</summary>
    public static readonly Scalar ByteMax = 255f.ToScalar();

    /// <summary>0 and 1, the bounds of image values.</summary>
    public static readonly Scalar Zero = 0f.ToScalar(), One = 1f.ToScalar();

    /// <summary>A logit that no softmax picks.</summary>
    public static readonly Scalar Excluded = (-1e9f).ToScalar();
}
