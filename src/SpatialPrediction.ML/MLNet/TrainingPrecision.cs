namespace SpatialPrediction.ML;

/// <summary>The number format pretraining computes the backbone in.</summary>
public enum TrainingPrecision
{
    /// <summary>32-bit floats throughout.</summary>
    Float32 = 0,

    /// <summary>
    /// The backbone's forward and backward in bfloat16 (batch norms in float32), on a working copy of float32 master
    /// weights that the optimiser updates; heads and losses in float32. Fast on CPUs with AVX512-BF16 or AMX and on recent
    /// GPUs; elsewhere libtorch emulates it slowly.
    /// </summary>
    BFloat16 = 1,
}
