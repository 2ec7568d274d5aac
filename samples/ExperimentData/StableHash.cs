namespace SpatialPrediction.ML.ExperimentData;

/// <summary>
/// FNV-1a over a text's UTF-16 code units: the same number on every machine and run (string.GetHashCode is randomised
/// per process), so a split chosen by it puts the same picture on the same side wherever the data is prepared. The
/// experiment runner compiles this file too, for its validation split.
/// </summary>
internal static class StableHash
{
    /// <summary>The 32-bit FNV-1a hash of <paramref name="text"/>.</summary>
    public static uint Of(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text) hash = (hash ^ c) * 16777619;
        return hash;
    }
}
