using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// Folds an inference-mode batch norm into the convolution before it: BN(conv(x)) = conv'(x) with
/// w' = w·γ/√(σ²+ε) per output channel and b' = β − μ·γ/√(σ²+ε). The network then makes one pass over each activation
/// instead of two. Only for frozen copies: the folded convolution no longer has the batch-norm parameters to train.
/// </summary>
internal static class BatchNormFolding
{
    /// <summary>Replaces <paramref name="conv"/>'s weight and bias by the folded ones; <paramref name="bn"/> is left untouched.</summary>
    public static void Fold(Conv2d conv, BatchNorm2d bn)
    {
        if (bn.running_mean is null || bn.running_var is null)
            throw new InvalidOperationException("Cannot fold a batch norm that does not track running statistics.");
        using var noGrad = no_grad();
        var (weight, bias) = nn.utils.fuse_conv_bn_weights(conv.weight!, conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias);
        conv.weight = weight;
        conv.bias = bias;
    }

    /// <summary>
    /// A sequential with every Conv2d → BatchNorm2d pair folded into the convolution and the batch norm left out (and
    /// disposed); every other layer is kept, in order.
    /// </summary>
    public static Sequential Fold(Sequential layers)
    {
        var children = layers.children().ToList();
        var kept = new List<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < children.Count; i++)
        {
            if (children[i] is Conv2d conv && i + 1 < children.Count && children[i + 1] is BatchNorm2d bn)
            {
                Fold(conv, bn);
                bn.Dispose();
                kept.Add(conv);
                i++;
            }
            else
            {
                kept.Add((nn.Module<Tensor, Tensor>)children[i]);
            }
        }
        return nn.Sequential(kept);
    }

    /// <summary>Folds <paramref name="layers"/>, registered under <paramref name="name"/> in <paramref name="owner"/>, and registers the folded sequential in its place.</summary>
    public static Sequential Replace(nn.Module owner, string name, Sequential layers)
    {
        var folded = Fold(layers);
        owner.register_module(name, null!); // registering null removes the old one
        owner.register_module(name, folded);
        return folded;
    }

    /// <summary>Folds every residual or bottleneck block of a ResNet's stages.</summary>
    public static void FoldBlocks(Sequential stages)
    {
        foreach (var block in stages.children())
        {
            if (block is ResidualBlock residual) residual.FoldBatchNorm();
            else if (block is BottleneckBlock bottleneck) bottleneck.FoldBatchNorm();
        }
    }
}
