using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>ResNet basic block: two 3×3 convolutions with batch norm, and a 1×1 projection shortcut when the shape changes.</summary>
internal sealed class ResidualBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly BatchNorm2d bn1, bn2;
    private Sequential? shortcut;
    private bool batchNormFolded;

    /// <summary>Creates a block from <paramref name="inChannels"/> to <paramref name="outChannels"/> with the given stride.</summary>
    public ResidualBlock(long inChannels, long outChannels, long stride) : base(nameof(ResidualBlock))
    {
        conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(outChannels);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, stride: 1, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(outChannels);
        if (stride != 1 || inChannels != outChannels)
            shortcut = nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), nn.BatchNorm2d(outChannels));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var x = Convolve(conv1, input);
        x = nn.functional.relu(batchNormFolded ? x : bn1.forward(x));
        x = Convolve(conv2, x);
        if (!batchNormFolded) x = bn2.forward(x);
        var identity = shortcut is null ? input : shortcut.forward(input);
        return nn.functional.relu(x + identity);
    }

    /// <summary>Whether 3×3 convolutions on maps of a few pixels run as one matrix product (<see cref="SmallMapConvolution"/>).</summary>
    internal bool SmallMapsAsMatrices { get; set; }

    private Tensor Convolve(Conv2d conv, Tensor input)
        => SmallMapsAsMatrices && SmallMapConvolution.Applies(conv, input) ? SmallMapConvolution.Forward(conv, input) : conv.forward(input);

    /// <summary>Folds every batch norm into its convolution (see <see cref="BatchNormFolding"/>); for frozen inference copies only.</summary>
    internal void FoldBatchNorm()
    {
        if (batchNormFolded) return;
        BatchNormFolding.Fold(conv1, bn1);
        BatchNormFolding.Fold(conv2, bn2);
        // Unregistered (registering null removes a submodule), so the folded block lists no batch norm; disposed with the block.
        register_module(nameof(bn1), null!);
        register_module(nameof(bn2), null!);
        if (shortcut is not null) shortcut = BatchNormFolding.Replace(this, nameof(shortcut), shortcut);
        batchNormFolded = true;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose(); conv2.Dispose(); bn1.Dispose(); bn2.Dispose(); shortcut?.Dispose();
        }
        base.Dispose(disposing);
    }
}
