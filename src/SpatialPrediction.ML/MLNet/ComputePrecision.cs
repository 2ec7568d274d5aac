namespace SpatialPrediction.ML;

/// <summary>
/// The number format the backbone computes in: <c>Runtime.TrainingPrecision</c> for pretraining,
/// <c>Runtime.FeaturizationPrecision</c> or <see cref="SpatialFeaturizeOptions.Precision"/> for the featuriser.
/// </summary>
public enum ComputePrecision
{
    /// <summary>32-bit floats throughout, as trained.</summary>
    Float32 = 0,

    /// <summary>
    /// bfloat16, fast on CPUs with AVX512-BF16 or AMX and on recent GPUs, emulated slowly elsewhere (the library warns
    /// where it is). Training runs the backbone's forward and backward in bfloat16 (batch norms in float32) on a working
    /// copy of float32 master weights that the optimiser updates, heads and losses in float32. Featurising uses bfloat16
    /// weights and activations and returns 32-bit floats, which differ from <see cref="Float32"/> by about 1 % of their range.
    /// </summary>
    BFloat16 = 1,
}
