namespace SpatialPrediction.ML.Objectives;

/// <summary>The host self-supervised objective that SP is plugged into.</summary>
public enum SslFramework
{
    /// <summary>No host objective: SP alone trains the backbone.</summary>
    None = 0,
    /// <summary>SimCLR: two augmented views per image, NT-Xent contrastive loss on a projection head.</summary>
    SimClr = 1,
}
