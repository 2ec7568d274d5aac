namespace SpatialPrediction.ML;

/// <summary>The number format a featuriser computes in.</summary>
public enum FeaturizationPrecision
{
    /// <summary>32-bit floats, as trained.</summary>
    Float32 = 0,

    /// <summary>
    /// bfloat16 weights and activations (features returned as 32-bit floats): on CPUs with AVX512-BF16 or AMX and on
    /// recent GPUs libtorch runs it on native bf16 kernels. Features differ from Float32 by about 1 % of their range.
    /// </summary>
    BFloat16 = 1,
}
