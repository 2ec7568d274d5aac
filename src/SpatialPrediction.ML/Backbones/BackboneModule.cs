using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// A backbone: takes images [B, 3, H, W] with values in [0, 1] and returns one embedding per image [B, D]. Input
/// normalisation lives inside the module, so training and featurisation can never disagree about it.
/// </summary>
public abstract class BackboneModule : nn.Module<Tensor, Tensor>
{
    // Per-channel statistics of natural images (ImageNet); any fixed affine map works, these keep inputs near unit scale.
    private static readonly float[] ChannelMean = { 0.485f, 0.456f, 0.406f };
    private static readonly float[] ChannelStd = { 0.229f, 0.224f, 0.225f };

    /// <summary>Creates the module.</summary>
    protected BackboneModule(string name) : base(name) { }

    /// <summary>Length of the embedding.</summary>
    public abstract int FeatureDimension { get; }
    /// <summary>Smallest input side the architecture handles.</summary>
    public abstract int MinInputSize { get; }
    /// <summary>Largest input side the architecture is meant for.</summary>
    public abstract int MaxInputSize { get; }
    /// <summary>Input sides must be a multiple of this (1 for CNNs, the patch size for ViTs).</summary>
    public virtual int InputSizeMultiple => 1;
    /// <summary>The kind, for saving and for error messages.</summary>
    public abstract BackboneKind Kind { get; }

    /// <summary>
    /// The spatial feature map [B, C, h, w] before pooling (CNNs: the last stage; ViTs: patch tokens on their grid),
    /// for dense probes.
    /// </summary>
    public abstract Tensor FeatureMap(Tensor images);

    /// <summary>The pooled embedding [B, D] and the feature map [B, D, h, w] from one forward pass.</summary>
    public virtual (Tensor Pooled, Tensor Map) PooledAndMap(Tensor images)
    {
        var map = FeatureMap(images);
        return (map.mean(new long[] { 2, 3 }), map);
    }

    /// <summary>Whether <paramref name="size"/> is an input side this backbone accepts.</summary>
    public bool Accepts(int size) => size >= MinInputSize && size <= MaxInputSize && size % InputSizeMultiple == 0;

    /// <summary>
    /// Maps [0, 1] images to normalised inputs. The two 3-element tensors are built per call on the input's device:
    /// they cost nothing, there is no buffer to keep in step with device moves, and they belong to the caller's
    /// dispose scope like every other intermediate.
    /// </summary>
    protected static Tensor Normalize(Tensor images)
    {
        var mean = tensor(ChannelMean, device: images.device, dtype: images.dtype).reshape(1, 3, 1, 1);
        var std = tensor(ChannelStd, device: images.device, dtype: images.dtype).reshape(1, 3, 1, 1);
        return (images - mean) / std;
    }
}
