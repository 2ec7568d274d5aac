using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// A host self-supervised objective: it makes its own views of a batch, runs them through the shared backbone and its
/// own heads, and returns its loss. SP is added next to it by the training engine and needs nothing from it.
/// </summary>
public abstract class HostObjective : nn.Module
{
    /// <summary>Creates the module.</summary>
    protected HostObjective(string name) : base(name) { }

    /// <summary>Which framework this is.</summary>
    public abstract SslFramework Framework { get; }

    /// <summary>The host loss on a batch of images [B, 3, H, W] in [0, 1].</summary>
    public abstract Tensor Loss(BackboneModule backbone, Tensor images, Random random);
}
