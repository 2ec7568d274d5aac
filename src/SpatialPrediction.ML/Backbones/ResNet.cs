using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// ResNet-18 / ResNet-50 as in He et al. (2016) and TorchVision: 7×7/2 stem convolution, 3×3/2 max-pool, four stages
/// (64, 128, 256, 512 base widths; basic blocks [2, 2, 2, 2] or bottlenecks [3, 4, 6, 3]), global average pooling.
/// Written here rather than taken from the TorchVision package so its layer order is ours to map pretrained weights
/// onto and its feature map is reachable for dense probes.
/// </summary>
internal sealed class ResNet : BackboneModule
{
    private Sequential stem;
    private readonly Sequential stages;
    private readonly BackboneKind kind;
    private readonly int featureDimension;
    private readonly int[] depths;

    /// <summary>Creates ResNet-18 or ResNet-50.</summary>
    public ResNet(BackboneKind kind) : base(kind.ToString())
    {
        this.kind = kind;
        stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false), nn.BatchNorm2d(64), nn.ReLU(),
            nn.MaxPool2d(3, stride: 2, padding: 1));
        var blocks = new List<nn.Module<Tensor, Tensor>>();
        long channels = 64;
        var declaration = BackboneRegistry.For(kind);
        depths = declaration is { StageBlocks: { } blocksPerStage } && kind != BackboneKind.SmallResNet
            ? blocksPerStage.ToArray()
            : throw new ArgumentOutOfRangeException(nameof(kind), kind, "ResNet supports ResNet18, CntkResNet18 and ResNet50.");
        for (int stage = 0; stage < 4; stage++)
        {
            long width = 64L << stage;
            for (int b = 0; b < depths[stage]; b++)
            {
                long stride = stage > 0 && b == 0 ? 2 : 1;
                if (!declaration.Bottlenecks)
                {
                    blocks.Add(new ResidualBlock(channels, width, stride));
                    channels = width;
                }
                else
                {
                    blocks.Add(new BottleneckBlock(channels, width, stride));
                    channels = width * BottleneckBlock.Expansion;
                }
            }
        }
        featureDimension = (int)channels;
        stages = nn.Sequential(blocks);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int FeatureDimension => featureDimension;
    /// <inheritdoc />
    public override int MinInputSize => 32;
    /// <inheritdoc />
    public override int MaxInputSize => 1024;
    /// <inheritdoc />
    public override BackboneKind Kind => kind;

    /// <inheritdoc />
    internal override bool SupportsChannelsLast => BackboneRegistry.For(kind).ChannelsLast;

    /// <inheritdoc />
    internal override IReadOnlyList<IReadOnlyList<nn.Module>> Stages => StemAndStages(stem, stages, depths);

    /// <inheritdoc />
    public override Tensor FeatureMap(Tensor images) => stages.forward(stem.forward(ToConvolutionLayout(Normalize(images))));

    /// <inheritdoc />
    public override Tensor forward(Tensor images) => FeatureMap(images).mean(new long[] { 2, 3 });

    /// <inheritdoc />
    internal override bool FoldBatchNorm()
    {
        stem = BatchNormFolding.Replace(this, nameof(stem), stem);
        BatchNormFolding.FoldBlocks(stages);
        return true;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            stem.Dispose();
            stages.Dispose();
        }
        base.Dispose(disposing);
    }
}
