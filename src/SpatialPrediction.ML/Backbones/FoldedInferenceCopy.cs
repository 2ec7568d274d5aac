using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// The copy of a backbone that featurisation runs: same weights, no gradients, eval mode, batch norms folded into the
/// convolutions before them (the same function up to float rounding, one pass over each activation instead of two).
/// </summary>
internal static class FoldedInferenceCopy
{
    /// <summary>
    /// The folded copy on <paramref name="device"/> in <paramref name="layout"/>, or null where nothing folds (ViTs).
    /// </summary>
    public static BackboneModule? Make(BackboneModule module, BackboneSpec spec, Device device, ConvolutionLayout layout)
    {
        var copy = Objectives.MomentumTeacher.Copy(module, () => BackboneFactory.Create(spec));
        copy.Layout = layout;
        copy.to(device);
        copy.eval();
        if (!copy.FoldBatchNorm())
        {
            copy.Dispose();
            return null;
        }
        // Made lazily, possibly inside a caller's dispose scope: its weights and buffers belong to the backbone instead.
        foreach (var (_, tensor) in copy.state_dict()) tensor.DetachFromDisposeScope();
        return copy;
    }
}
