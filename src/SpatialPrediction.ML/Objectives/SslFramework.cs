namespace SpatialPrediction.ML.Objectives;

/// <summary>The host self-supervised objective that SP is plugged into.</summary>
public enum SslFramework
{
    /// <summary>No host objective: SP alone trains the backbone.</summary>
    None = 0,
    /// <summary>SimCLR (Chen et al., 2020): two views, NT-Xent contrastive loss on a projection head.</summary>
    SimClr = 1,
    /// <summary>MoCo v3 (Chen, Xie, He, 2021): momentum encoder, predictor, symmetric InfoNCE.</summary>
    MoCoV3 = 2,
    /// <summary>BYOL (Grill et al., 2020): momentum target network, predictor, cosine loss; no negatives.</summary>
    Byol = 3,
    /// <summary>DINO (Caron et al., 2021): self-distillation with an EMA teacher, centring and sharpening, multi-crop.</summary>
    Dino = 4,
    /// <summary>
    /// A host objective of your own: a <see cref="SelfSupervisedObjective"/> that
    /// <c>SpatialPretrainOptions.CustomObjective</c> builds (VICReg, Barlow Twins, ...), trained with or without SP.
    /// </summary>
    Custom = 5,
}
