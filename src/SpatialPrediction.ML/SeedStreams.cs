namespace SpatialPrediction.ML;

/// <summary>
/// Independent, reproducible random streams derived from one seed: stream <c>s</c>, item <c>i</c> always gets the
/// same <see cref="Random"/>, whatever was drawn before. This is what makes a scene independent of the set size and a
/// training step independent of whether the run was interrupted and resumed before it.
/// </summary>
internal static class SeedStreams
{
    /// <summary>Stream of SpatialScenes images.</summary>
    public const int Scenes = 0;
    /// <summary>Stream of the train/validation split.</summary>
    public const int Split = 1;
    /// <summary>Stream of each epoch's image order.</summary>
    public const int EpochOrder = 2;
    /// <summary>Stream of each (micro-)batch's views and augmentation.</summary>
    public const int Batch = 3;
    /// <summary>Stream of the SP validation pairs.</summary>
    public const int Validation = 4;

    /// <summary>A seed for item <paramref name="index"/> of stream <paramref name="stream"/>.</summary>
    public static int Derive(int seed, int stream, long index)
    {
        // SplitMix64 finaliser over (seed, stream, index): nearby inputs give unrelated outputs.
        ulong z = ((ulong)(uint)seed << 32) ^ ((ulong)(uint)stream << 56) ^ (ulong)index;
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    /// <summary>The <see cref="Random"/> for item <paramref name="index"/> of stream <paramref name="stream"/>.</summary>
    public static Random For(int seed, int stream, long index) => new(Derive(seed, stream, index));
}
