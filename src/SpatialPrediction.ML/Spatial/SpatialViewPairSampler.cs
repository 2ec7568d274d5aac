using SpatialPrediction.ML.Views;

namespace SpatialPrediction.ML.Spatial;

/// <summary>
/// Draws disentangled view pairs for SP: two boxes of one image with independent area and aspect, whose overlap is at
/// most <see cref="MaxIoU"/> and, when <see cref="MinGap"/> is positive, which are at least that far apart, so the
/// pair cannot be solved by matching shared pixels. Rejection sampling; constraints that cannot be met within
/// <see cref="MaxAttempts"/> draws raise an error that names them rather than silently relaxing.
/// </summary>
public sealed record SpatialViewPairSampler
{
    /// <summary>Smallest view area as a fraction of the image. Default 0.08.</summary>
    public float MinArea { get; init; } = 0.08f;
    /// <summary>Largest view area as a fraction of the image. Default 0.35.</summary>
    public float MaxArea { get; init; } = 0.35f;
    /// <summary>Smallest width/height ratio. Default 3/4.</summary>
    public float MinAspect { get; init; } = 3f / 4f;
    /// <summary>Largest width/height ratio. Default 4/3.</summary>
    public float MaxAspect { get; init; } = 4f / 3f;
    /// <summary>Largest intersection-over-union allowed between the two views. Default 0.3.</summary>
    public float MaxIoU { get; init; } = 0.3f;
    /// <summary>When positive, the views must be at least this far apart (image fraction) along x or y. Default 0.</summary>
    public float MinGap { get; init; }
    /// <summary>Probability that a pair is shown mirrored (targets then follow the mirrored frame). Default 0.5.</summary>
    public float MirrorProbability { get; init; } = 0.5f;
    /// <summary>Draws tried before giving up on the overlap constraints. Default 1000.</summary>
    public int MaxAttempts { get; init; } = 1000;

    /// <summary>Checks the settings; throws naming the first bad one.</summary>
    internal void Validate()
    {
        if (!(MinArea > 0 && MinArea <= MaxArea && MaxArea <= 1))
            throw new ArgumentOutOfRangeException(nameof(MinArea), $"View areas must satisfy 0 < MinArea <= MaxArea <= 1 (got {MinArea}, {MaxArea}).");
        if (!(MinAspect > 0 && MinAspect <= MaxAspect))
            throw new ArgumentOutOfRangeException(nameof(MinAspect), $"Aspect ratios must satisfy 0 < MinAspect <= MaxAspect (got {MinAspect}, {MaxAspect}).");
        if (!(MaxIoU >= 0 && MaxIoU <= 1))
            throw new ArgumentOutOfRangeException(nameof(MaxIoU), MaxIoU, "MaxIoU must be in [0, 1].");
        if (!(MinGap >= 0 && MinGap < 1))
            throw new ArgumentOutOfRangeException(nameof(MinGap), MinGap, "MinGap must be in [0, 1).");
        if (!(MirrorProbability >= 0 && MirrorProbability <= 1))
            throw new ArgumentOutOfRangeException(nameof(MirrorProbability), MirrorProbability, "MirrorProbability must be in [0, 1].");
        if (MaxAttempts < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "MaxAttempts must be at least 1.");
    }

    /// <summary>Draws one pair of a <paramref name="width"/> × <paramref name="height"/> picture that satisfies every constraint.</summary>
    /// <exception cref="InvalidOperationException">No pair met the constraints within <see cref="MaxAttempts"/> draws.</exception>
    internal ViewPair Sample(Random random, int width, int height)
    {
        var crops = new RandomResizedCropSampler(MinArea, MaxArea, MinAspect, MaxAspect);
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var a = crops.Sample(random, width, height);
            var b = crops.Sample(random, width, height);
            if (a.IntersectionOverUnion(b) > MaxIoU) continue;
            if (MinGap > 0 && a.Gap(b) < MinGap) continue;
            bool mirrored = random.NextSingle() < MirrorProbability;
            return new ViewPair(a, b, mirrored);
        }
        throw new InvalidOperationException(
            $"SpatialViewPairSampler found no pair with IoU <= {MaxIoU} and gap >= {MinGap} in {MaxAttempts} draws " +
            $"with view areas in [{MinArea}, {MaxArea}]. Use smaller views (MaxArea), a larger MaxIoU or a smaller MinGap.");
    }
}
