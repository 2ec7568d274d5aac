using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Docs;

/// <summary>
/// A host objective in one file (the walk-through of docs/architecture.md): two views of each image, their embeddings
/// pulled together (invariance) while every feature keeps a spread over the batch (variance), VICReg without its
/// covariance term.
/// </summary>
internal sealed class VarianceInvarianceObjective : HostObjective
{
    /// <summary>How the engine builds it; 100 stands for the enum value a real host would add to SslFramework.</summary>
    internal static HostRegistration Registration { get; } = new((SslFramework)100,
        (settings, backbone, _) => new VarianceInvarianceObjective(settings.ImageSize));

    private readonly MultiCropSampler views;

    public VarianceInvarianceObjective(int viewSize) : base(nameof(VarianceInvarianceObjective))
    {
        views = HostViews.TwoViews(viewSize);
        RegisterComponents();
    }

    public override ViewSet MakeViews(PictureBatch pictures, Random random, Device device) => views.Make(pictures, random, device);

    public override Tensor Loss(BackboneModule backbone, ViewSet set)
    {
        var a = backbone.forward(set.Views[0]);
        var b = backbone.forward(set.Views[1]);
        Tensor Spread(Tensor z) => nn.functional.relu(1 - (z.var(0) + 1e-4).sqrt()).mean();
        return nn.functional.mse_loss(a, b) + Spread(a) + Spread(b);
    }
}
