using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>ResNet bottleneck block: 1×1 reduce, 3×3 (carrying the stride), 1×1 expand by 4, projection shortcut when the shape changes.</summary>
internal sealed class BottleneckBlock : nn.Module<Tensor, Tensor>
{
    /// <summary>Output channels are this many times the block's inner width.</summary>
    public const int Expansion = 4;

    private Sequential body;
    private Sequential? shortcut;

    /// <summary>Creates a block from <paramref name="inChannels"/> to <paramref name="width"/> × 4 channels.</summary>
    public BottleneckBlock(long inChannels, long width, long stride) : base(nameof(BottleneckBlock))
    {
        long outChannels = width * Expansion;
        body = nn.Sequential(
            nn.Conv2d(inChannels, width, 1, bias: false), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, stride: stride, padding: 1, bias: false), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, outChannels, 1, bias: false), nn.BatchNorm2d(outChannels));
        if (stride != 1 || inChannels != outChannels)
            shortcut = nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), nn.BatchNorm2d(outChannels));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
        => nn.functional.relu(body.forward(input) + (shortcut is null ? input : shortcut.forward(input)));

    /// <summary>Folds every batch norm into its convolution (see <see cref="BatchNormFolding"/>); for frozen inference copies only.</summary>
    internal void FoldBatchNorm()
    {
        body = BatchNormFolding.Replace(this, nameof(body), body);
        if (shortcut is not null) shortcut = BatchNormFolding.Replace(this, nameof(shortcut), shortcut);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            body.Dispose();
            shortcut?.Dispose();
        }
        base.Dispose(disposing);
    }
}
