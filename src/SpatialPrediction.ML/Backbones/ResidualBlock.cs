using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>ResNet basic block: two 3×3 convolutions with batch norm, and a 1×1 projection shortcut when the shape changes.</summary>
public sealed class ResidualBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly BatchNorm2d bn1, bn2;
    private readonly Sequential? shortcut;

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
        var x = nn.functional.relu(bn1.forward(conv1.forward(input)));
        x = bn2.forward(conv2.forward(x));
        var identity = shortcut is null ? input : shortcut.forward(input);
        return nn.functional.relu(x + identity);
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
