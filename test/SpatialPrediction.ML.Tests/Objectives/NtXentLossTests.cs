using SpatialPrediction.ML.Objectives;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Objectives;

public class NtXentLossTests
{
    [Test]
    public void Loss_matches_a_hand_computed_value_for_two_pairs()
    {
        using var scope = NewDisposeScope();
        // Unit vectors: pair 0 = (e1, e1), pair 1 = (e2, e2). Cosines: partner 1, others 0.
        var first = tensor(new float[] { 1, 0, 0, 1 }, new long[] { 2, 2 });
        var second = tensor(new float[] { 1, 0, 0, 1 }, new long[] { 2, 2 });
        const double t = 0.5;

        float loss = new NtXentLoss(t).Compute(first, second).item<float>();

        // Each anchor: partner logit 1/t, two negatives at 0 → -log(e^{2} / (e^{2} + 2)).
        double expected = -Math.Log(Math.Exp(1 / t) / (Math.Exp(1 / t) + 2));
        loss.Should().BeApproximately((float)expected, 1e-5f);
    }

    [Test]
    public void Matched_views_score_lower_than_unrelated_views()
    {
        using var scope = NewDisposeScope();
        var a = randn(16, 8, generator: new Generator(1));
        var loss = new NtXentLoss();

        float matched = loss.Compute(a, a + 0.01f * randn(16, 8, generator: new Generator(2))).item<float>();
        float unrelated = loss.Compute(a, randn(16, 8, generator: new Generator(3))).item<float>();

        matched.Should().BeLessThan(unrelated - 1f);
    }
}
