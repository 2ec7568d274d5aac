namespace SpatialPrediction.ML.Training;

/// <summary>Linear warm-up to the base value, then cosine decay to <c>FinalFraction</c> of it.</summary>
/// <param name="BaseValue">Value reached at the end of warm-up.</param>
/// <param name="TotalSteps">Length of the whole schedule.</param>
/// <param name="WarmupSteps">Steps of linear warm-up from near zero.</param>
/// <param name="FinalFraction">End value as a fraction of <paramref name="BaseValue"/>.</param>
internal sealed record CosineSchedule(double BaseValue, int TotalSteps, int WarmupSteps, double FinalFraction = 0.0)
{
    /// <summary>Value at step <paramref name="step"/> (0-based).</summary>
    public double At(int step)
    {
        if (step < WarmupSteps) return BaseValue * (step + 1) / WarmupSteps;
        int decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        double final = BaseValue * FinalFraction;
        return final + (BaseValue - final) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
