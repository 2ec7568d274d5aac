namespace SpatialPrediction.ML.Views;

/// <summary>
/// The per-sample choices of one <see cref="PhotometricAugmentation"/> call, drawn apart from their application so
/// that a test or another implementation (the Python companion) can apply exactly the same ones.
/// </summary>
internal sealed class PhotometricParameters
{
    /// <summary>Room for <paramref name="count"/> samples, all set to "no change".</summary>
    public PhotometricParameters(long count)
    {
        Count = count;
        Brightness = Enumerable.Repeat(1f, (int)count).ToArray();
        Contrast = Enumerable.Repeat(1f, (int)count).ToArray();
        Saturation = Enumerable.Repeat(1f, (int)count).ToArray();
        HueRotation = new float[count * 9];
        for (int i = 0; i < count; i++) HueRotation[i * 9] = HueRotation[i * 9 + 4] = HueRotation[i * 9 + 8] = 1;
        Gray = new float[count];
        BlurSigma = new float[count];
    }

    /// <summary>Number of samples.</summary>
    public long Count { get; }
    /// <summary>Brightness factor per sample.</summary>
    public float[] Brightness { get; }
    /// <summary>Contrast factor per sample.</summary>
    public float[] Contrast { get; }
    /// <summary>Saturation factor per sample.</summary>
    public float[] Saturation { get; }
    /// <summary>Row-major 3×3 RGB hue rotation per sample ([Count·9]).</summary>
    public float[] HueRotation { get; }
    /// <summary>1 where the sample turns gray, else 0.</summary>
    public float[] Gray { get; }
    /// <summary>Blur sigma in pixels per sample; 0: no blur.</summary>
    public float[] BlurSigma { get; }
}
