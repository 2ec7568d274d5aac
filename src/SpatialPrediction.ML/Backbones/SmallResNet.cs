using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// ResNet for low-resolution images (CIFAR-style stem: one 3×3 convolution, no max-pool). Four stages of
/// <see cref="ResidualBlock"/>s at widths w, 2w, 4w, 8w; stages 2–4 halve the resolution; global average pooling.
/// </summary>
internal sealed class SmallResNet : BackboneModule
{
    private Sequential stem;
    private readonly Sequential stages;
    private readonly int width;
    private readonly int blocksPerStage;

    /// <summary>Creates the network with base width <paramref name="width"/> and <paramref name="blocksPerStage"/> blocks per stage.</summary>
    public SmallResNet(int width = 32, int blocksPerStage = 1) : base(nameof(SmallResNet))
    {
        if (width < 4) throw new ArgumentOutOfRangeException(nameof(width), width, "Width must be at least 4.");
        if (blocksPerStage < 1) throw new ArgumentOutOfRangeException(nameof(blocksPerStage), blocksPerStage, "Need at least one block per stage.");
        this.width = width;
        this.blocksPerStage = blocksPerStage;
        stem = nn.Sequential(nn.Conv2d(3, width, 3, padding: 1, bias: false), nn.BatchNorm2d(width), nn.ReLU());
        var blocks = new List<nn.Module<Tensor, Tensor>>();
        long channels = width;
        for (int stage = 0; stage < 4; stage++)
        {
            long outChannels = (long)width << stage;
            for (int b = 0; b < blocksPerStage; b++)
            {
                blocks.Add(new ResidualBlock(channels, outChannels, stride: stage > 0 && b == 0 ? 2 : 1));
                channels = outChannels;
            }
        }
        stages = nn.Sequential(blocks);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int FeatureDimension => 8 * width;
    /// <inheritdoc />
    public override int MinInputSize => 16;
    /// <inheritdoc />
    public override int MaxInputSize => 128;
    /// <inheritdoc />
    public override BackboneKind Kind => BackboneKind.SmallResNet;

    /// <inheritdoc />
    internal override IReadOnlyList<IReadOnlyList<nn.Module>> Stages => StemAndStages(stem, stages, Enumerable.Repeat(blocksPerStage, 4).ToArray());

    /// <inheritdoc />
    public override Tensor FeatureMap(Tensor images) => stages.forward(stem.forward(Normalize(images)));

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
            stem.Dispose(); stages.Dispose();
        }
        base.Dispose(disposing);
    }
}
