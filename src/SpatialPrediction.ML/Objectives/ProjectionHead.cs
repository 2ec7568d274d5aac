using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// SimCLR projection head: Linear → BatchNorm → ReLU → Linear. The contrastive loss is applied after it so the backbone
/// features keep information (colour, position) that the invariance objective would otherwise discard.
/// </summary>
public sealed class ProjectionHead : nn.Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    /// <summary>Creates a head from <paramref name="inputDimension"/> through <paramref name="hiddenDimension"/> to <paramref name="outputDimension"/>.</summary>
    public ProjectionHead(long inputDimension, long hiddenDimension, long outputDimension) : base(nameof(ProjectionHead))
    {
        layers = nn.Sequential(
            nn.Linear(inputDimension, hiddenDimension),
            nn.BatchNorm1d(hiddenDimension),
            nn.ReLU(),
            nn.Linear(hiddenDimension, outputDimension));
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
