using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// The projector / predictor MLP of SimCLR, MoCo v3 and BYOL: hidden layers Linear → BatchNorm → ReLU, then a final
/// Linear, optionally followed by a BatchNorm without affine parameters (MoCo v3's projector and predictor end so).
/// </summary>
internal sealed class MlpHead : nn.Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    /// <summary>Creates the head; <paramref name="widths"/> lists input, hidden and output widths in order.</summary>
    public MlpHead(IReadOnlyList<long> widths, bool finalBatchNorm = false) : base(nameof(MlpHead))
    {
        if (widths.Count < 2) throw new ArgumentException("An MLP head needs at least an input and an output width.", nameof(widths));
        var modules = new List<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < widths.Count - 2; i++)
        {
            modules.Add(nn.Linear(widths[i], widths[i + 1]));
            modules.Add(nn.BatchNorm1d(widths[i + 1]));
            modules.Add(nn.ReLU());
        }
        modules.Add(nn.Linear(widths[^2], widths[^1]));
        if (finalBatchNorm) modules.Add(nn.BatchNorm1d(widths[^1], affine: false));
        layers = nn.Sequential(modules);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => layers.forward(input);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) layers.Dispose();
        base.Dispose(disposing);
    }
}
