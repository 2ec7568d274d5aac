using SpatialPrediction.ML.Objectives;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CustomObjective;

/// <summary>
/// VICReg (Bardes, Ponce, LeCun, ICLR 2022) as a host objective brought from outside the library. Two views of each
/// picture go through an expander; the loss pulls their embeddings together (invariance), keeps every embedding
/// dimension spread over the batch (variance: a hinge on its standard deviation) and decorrelates the dimensions
/// (covariance: off-diagonal entries of the covariance matrix), weighted 25 / 25 / 1 as in the paper.
/// </summary>
public sealed class VicRegObjective : SelfSupervisedObjective
{
    private readonly Sequential expander;

    /// <summary>The paper's expander is three layers of 8192 for ResNet-50's 2048 features; kept at 4× the features here.</summary>
    public VicRegObjective(int featureDimension) : base(nameof(VicRegObjective))
    {
        int width = 4 * featureDimension;
        expander = nn.Sequential(
            nn.Linear(featureDimension, width), nn.BatchNorm1d(width), nn.ReLU(),
            nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(),
            nn.Linear(width, width));
        RegisterComponents();
    }

    public double InvarianceWeight { get; init; } = 25;
    public double VarianceWeight { get; init; } = 25;
    public double CovarianceWeight { get; init; } = 1;

    public override Tensor Loss(IReadOnlyList<Tensor> views)
    {
        var z1 = expander.forward(views[0]);
        var z2 = expander.forward(views[1]);
        var invariance = nn.functional.mse_loss(z1, z2);
        var variance = (Variance(z1) + Variance(z2)) / 2;
        var covariance = Covariance(z1) + Covariance(z2);
        return InvarianceWeight * invariance + VarianceWeight * variance + CovarianceWeight * covariance;
    }

    /// <summary>How far each dimension's standard deviation over the batch falls below 1, averaged.</summary>
    private static Tensor Variance(Tensor z) => nn.functional.relu(1 - (z.var(0) + 1e-4).sqrt()).mean();

    /// <summary>The squared off-diagonal covariances, summed and divided by the dimension.</summary>
    private static Tensor Covariance(Tensor z)
    {
        long n = z.shape[0], d = z.shape[1];
        var centred = z - z.mean(new long[] { 0 });
        var covariance = centred.t().matmul(centred) / (n - 1);
        var offDiagonal = covariance - diag(diag(covariance));
        return offDiagonal.pow(2).sum() / d;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) expander.Dispose();
        base.Dispose(disposing);
    }
}
