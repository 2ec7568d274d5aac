using SpatialPrediction.ML.Views;

namespace SpatialPrediction.ML.Spatial;

/// <summary>The four regression targets of Spatial Prediction: where view B is, and how large, relative to view A.</summary>
internal static class RelativeBoxTargets
{
    /// <summary>Number of targets: dx, dy, log width ratio, log height ratio.</summary>
    public const int Count = 4;

    /// <summary>Target names, in order.</summary>
    public static IReadOnlyList<string> Names { get; } = new[] { "dx", "dy", "log_w", "log_h" };

    /// <summary>
    /// Targets of <paramref name="b"/> relative to <paramref name="a"/>, both given in the frame the model sees
    /// (for a mirrored pair, pass the mirrored boxes: see <see cref="ViewPair"/>).
    /// </summary>
    public static float[] Compute(ViewBox a, ViewBox b, TargetParameterization parameterization = TargetParameterization.ReferenceRelative)
    {
        float dx = b.CenterX - a.CenterX, dy = b.CenterY - a.CenterY;
        if (parameterization == TargetParameterization.ReferenceRelative)
        {
            dx /= a.Width;
            dy /= a.Height;
        }
        return new[] { dx, dy, MathF.Log(b.Width / a.Width), MathF.Log(b.Height / a.Height) };
    }

    /// <summary>Targets of a sampled pair, computed in the frame its crops are seen in.</summary>
    public static float[] Compute(ViewPair pair, TargetParameterization parameterization = TargetParameterization.ReferenceRelative)
        => Compute(pair.SeenReference, pair.SeenTarget, parameterization);
}
