using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Spatial;

/// <summary>
/// The SP head: an MLP over the pair [zA, zB, zA - zB] of backbone embeddings that outputs the four (standardised)
/// relative-box targets. The difference term gives the MLP the comparison directly instead of making it learn one.
/// Optionally each embedding first goes through a projector of its own (shared by both views, as the hosts' projectors
/// are), so SP's gradient shapes that projector before it reaches the pooled embedding the probe reads.
/// </summary>
internal sealed class SpatialPredictionHead : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Sequential layers;
    private readonly Objectives.MlpHead? projector;

    /// <summary>Creates the head for embeddings of <paramref name="featureDimension"/> values.</summary>
    /// <param name="featureDimension">Backbone embedding size.</param>
    /// <param name="hiddenWidth">Width of each hidden layer.</param>
    /// <param name="hiddenLayers">Number of hidden layers (0 makes the head linear).</param>
    /// <param name="projectorWidth">Width of the per-view projector (Linear, BatchNorm, ReLU, Linear); 0: none.</param>
    public SpatialPredictionHead(long featureDimension, int hiddenWidth, int hiddenLayers, int projectorWidth = 0) : base(nameof(SpatialPredictionHead))
    {
        if (projectorWidth > 0)
        {
            projector = new Objectives.MlpHead(new[] { featureDimension, projectorWidth, projectorWidth });
            featureDimension = projectorWidth;
        }
        var modules = new List<nn.Module<Tensor, Tensor>>();
        long width = 3 * featureDimension;
        for (int i = 0; i < hiddenLayers; i++)
        {
            modules.Add(nn.Linear(width, hiddenWidth));
            modules.Add(nn.BatchNorm1d(hiddenWidth));
            modules.Add(nn.ReLU());
            width = hiddenWidth;
        }
        modules.Add(nn.Linear(width, RelativeBoxTargets.Count));
        layers = nn.Sequential(modules);
        RegisterComponents();
    }

    /// <summary>Predicts standardised targets [B, 4] from reference embeddings [B, D] and second-view embeddings [B, D].</summary>
    public override Tensor forward(Tensor reference, Tensor target)
    {
        if (projector is not null)
        {
            reference = projector.forward(reference);
            target = projector.forward(target);
        }
        return layers.forward(cat(new[] { reference, target, reference - target }, 1));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            layers.Dispose();
            projector?.Dispose();
        }
        base.Dispose(disposing);
    }
}
