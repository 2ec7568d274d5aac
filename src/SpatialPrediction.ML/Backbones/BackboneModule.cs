using SpatialPrediction.ML.Machine;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// A backbone: takes images [B, 3, H, W] with values in [0, 1] and returns one embedding per image [B, D]. Input
/// normalisation lives inside the module, so training and featurisation can never disagree about it.
/// </summary>
internal abstract class BackboneModule : nn.Module<Tensor, Tensor>
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

    /// <summary>
    /// The same values laid out channels-last (NHWC strides, NCHW shape) on the CPU; unchanged elsewhere. libtorch's CPU
    /// convolutions run on oneDNN, whose native layout is NHWC: given NCHW they reorder in and out of every
    /// convolution, given NHWC they keep it from layer to layer (usually faster; docs/performance.md). CUDA keeps NCHW, where float32 cuDNN convolutions are not reliably faster in NHWC.
    /// Only for networks whose convolutions all have 16 or more input channels besides the RGB stem (the ResNets):
    /// libtorch 2.5's channels-last backward of a 1×1 stride-2 convolution with fewer than 16 input channels and an
    /// odd batch of 3 or more corrupts the heap (found by the tests; the small ResNet at width 4 or 8 hit it).
    /// </summary>
    protected Tensor ToConvolutionLayout(Tensor images)
        => SupportsChannelsLast && Layout == ConvolutionLayout.ChannelsLast && images.device_type == TorchSharp.DeviceType.CPU && images.dim() == 4
            ? images.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
            : images;

    /// <summary>
    /// The layout <see cref="ToConvolutionLayout"/> uses on the CPU: channels-last unless a run or a featuriser chose
    /// otherwise (<see cref="LayoutCalibration"/> measures it per machine and shape).
    /// </summary>
    internal ConvolutionLayout Layout { get; set; } = ConvolutionLayout.ChannelsLast;

    /// <summary>
    /// Whether the basic blocks' 3×3 convolutions on maps of a few pixels run as one matrix product
    /// (<see cref="SmallMapConvolution"/>); off unless a run's layout calibration measured it faster.
    /// </summary>
    internal bool SmallMapsAsMatrices
    {
        get => smallMapsAsMatrices;
        set
        {
            smallMapsAsMatrices = value;
            foreach (var block in modules().OfType<ResidualBlock>()) block.SmallMapsAsMatrices = value;
        }
    }

    private bool smallMapsAsMatrices;

    /// <summary>The module's <see cref="Layout"/> and <see cref="SmallMapsAsMatrices"/> together.</summary>
    internal ConvolutionPlan Plan => new(Layout, SmallMapsAsMatrices);

    /// <summary>Sets <see cref="Layout"/> and <see cref="SmallMapsAsMatrices"/> as <paramref name="plan"/> says.</summary>
    internal void Apply(ConvolutionPlan plan)
    {
        Layout = plan.Layout;
        SmallMapsAsMatrices = plan.SmallMapsAsMatrices;
    }

    /// <summary>Whether the architecture can run channels-last (the ResNets; see <see cref="ToConvolutionLayout"/>).</summary>
    internal virtual bool SupportsChannelsLast => false;

    /// <summary>
    /// Turns this module into a faster inference-only copy by folding batch norms into convolutions (see
    /// <see cref="BatchNormFolding"/>); returns false, changing nothing, for architectures without such pairs. After it,
    /// the module must not be trained or saved: call it on a copy that is in eval mode and on its device.
    /// </summary>
    internal virtual bool FoldBatchNorm() => false;

    /// <summary>
    /// The network's stages from the input on (the stem first, then each resolution stage), for freezing the early ones
    /// in continued pretraining; empty for architectures that do not define them.
    /// </summary>
    internal virtual IReadOnlyList<IReadOnlyList<nn.Module>> Stages => Array.Empty<IReadOnlyList<nn.Module>>();

    /// <summary>The stem followed by the blocks of <paramref name="blocks"/>, grouped into stages of <paramref name="depths"/> blocks.</summary>
    private protected static IReadOnlyList<IReadOnlyList<nn.Module>> StemAndStages(nn.Module stem, TorchSharp.Modules.Sequential blocks, IReadOnlyList<int> depths)
    {
        var children = blocks.children().ToList();
        var result = new List<IReadOnlyList<nn.Module>> { new[] { stem } };
        int start = 0;
        foreach (int depth in depths)
        {
            result.Add(children.GetRange(start, depth));
            start += depth;
        }
        return result;
    }

    /// <summary>Whether <paramref name="size"/> is an input side this backbone accepts.</summary>
    public bool Accepts(int size) => size >= MinInputSize && size <= MaxInputSize && size % InputSizeMultiple == 0;

    /// <summary>Side of the mean image of <see cref="InputNormalization.BgrMeanImage"/>.</summary>
    public const int MeanImageSize = 224;

    private const string MeanImageBuffer = "input_mean";

    /// <summary>How this module normalises its input.</summary>
    public InputNormalization Normalization { get; private set; } = InputNormalization.ImageNet;

    /// <summary>
    /// Switches the input to <see cref="InputNormalization.BgrMeanImage"/>: registers the buffer <c>input_mean</c>
    /// [1, 3, 224, 224] (BGR, 0–255 scale; zeros until weights are loaded), saved and loaded with the weights.
    /// </summary>
    internal void UseBgrMeanImage()
    {
        if (Normalization == InputNormalization.BgrMeanImage) return;
        register_buffer(MeanImageBuffer, zeros(1, 3, MeanImageSize, MeanImageSize));
        Normalization = InputNormalization.BgrMeanImage;
    }

    /// <summary>
    /// Maps [0, 1] RGB images to the network's input. For the ImageNet standardisation the two 3-element tensors are
    /// built per call on the input's device: they cost nothing, there is no buffer to keep in step with device moves,
    /// and they belong to the caller's dispose scope like every other intermediate.
    /// </summary>
    protected Tensor Normalize(Tensor images)
    {
        if (Normalization == InputNormalization.BgrMeanImage)
        {
            // Looked up by name, not kept in a field: moving the module to a device replaces its buffers.
            var buffer = get_buffer(MeanImageBuffer) ?? throw new InvalidOperationException($"The {MeanImageBuffer} buffer is missing.");
            var mean = images.shape[2] == MeanImageSize && images.shape[3] == MeanImageSize
                ? buffer
                : nn.functional.interpolate(buffer, new long[] { images.shape[2], images.shape[3] }, mode: InterpolationMode.Bilinear, align_corners: false);
            return images.flip(1).mul(ProcessScalars.ByteMax) - mean;
        }
        return Standardize(images);
    }

    private static Tensor Standardize(Tensor images)
    {
        var mean = tensor(ChannelMean, device: images.device, dtype: images.dtype).reshape(1, 3, 1, 1);
        var std = tensor(ChannelStd, device: images.device, dtype: images.dtype).reshape(1, 3, 1, 1);
        return (images - mean) / std;
    }
}
