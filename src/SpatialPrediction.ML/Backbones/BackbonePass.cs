namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// One call of a backbone in a training step or a featurisation batch: how many images, at what side, and whether
/// gradients flow back through it (a teacher's pass and inference do not). The layout calibration times a step's passes.
/// </summary>
internal sealed record BackbonePass(int Images, int Size, bool Backward)
{
    /// <summary>"128×64 px" with " backward" when gradients flow.</summary>
    public override string ToString() => $"{Images}×{Size} px{(Backward ? " backward" : "")}";
}
