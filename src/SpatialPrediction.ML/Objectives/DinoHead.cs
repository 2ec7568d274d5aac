using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// DINO's head: a 3-layer GELU MLP to a bottleneck, L2 normalisation, then a weight-normalised linear layer onto K
/// prototypes (weight rows normalised to unit length, the paper's frozen weight-norm gain of 1).
/// </summary>
/// <remarks>
/// The hidden layers carry batch norm (DINO's <c>use_bn_in_head</c> option). Without it, a freshly initialised small
/// backbone gives nearly the same embedding for every image, centring then removes all that is left, the teacher's
/// targets turn uniform and training sits at the collapsed loss log K from the first steps (measured here: 6.85 for
/// K = 1024, whatever the learning rate).
/// </remarks>
internal sealed class DinoHead : nn.Module<Tensor, Tensor>
{
    private readonly Sequential mlp;
    private readonly Parameter prototypes;

    /// <summary>Creates the head from <paramref name="inputDimension"/> features to <paramref name="prototypeCount"/> outputs.</summary>
    public DinoHead(long inputDimension, int hiddenDimension, int bottleneckDimension, int prototypeCount) : base(nameof(DinoHead))
    {
        mlp = nn.Sequential(
            nn.Linear(inputDimension, hiddenDimension), nn.BatchNorm1d(hiddenDimension), nn.GELU(),
            nn.Linear(hiddenDimension, hiddenDimension), nn.BatchNorm1d(hiddenDimension), nn.GELU(),
            nn.Linear(hiddenDimension, bottleneckDimension));
        prototypes = new Parameter(randn(prototypeCount, bottleneckDimension) * 0.02f);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor features)
    {
        var x = nn.functional.normalize(mlp.forward(features), dim: 1);
        return x.matmul(nn.functional.normalize(prototypes, dim: 1).t());
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            mlp.Dispose();
            prototypes.Dispose();
        }
        base.Dispose(disposing);
    }
}
