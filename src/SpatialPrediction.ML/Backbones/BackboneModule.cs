using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// A backbone: takes images [B, 3, H, W] with values in [0, 1] and returns one embedding per image [B, D]. Input
/// normalisation lives inside the module, so training and featurisation can never disagree about it.
/// </summary>
public abstract class BackboneModule : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    protected BackboneModule(string name) : base(name) { }

    /// <summary>Length of the embedding.</summary>
    public abstract int FeatureDimension { get; }
    /// <summary>Smallest input side the architecture handles.</summary>
    public abstract int MinInputSize { get; }
    /// <summary>Largest input side the architecture is meant for.</summary>
    public abstract int MaxInputSize { get; }
    /// <summary>The kind, for saving and for error messages.</summary>
    public abstract BackboneKind Kind { get; }
}
