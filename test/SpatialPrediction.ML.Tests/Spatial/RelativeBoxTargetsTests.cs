using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Views;

namespace SpatialPrediction.ML.Tests.Spatial;

public class RelativeBoxTargetsTests
{
    private static readonly ViewBox A = new(0.30f, 0.40f, 0.20f, 0.25f);
    private static readonly ViewBox B = new(0.70f, 0.20f, 0.40f, 0.10f);

    [Test]
    public void Default_targets_are_offsets_in_reference_units_and_log_size_ratios()
    {
        var t = RelativeBoxTargets.Compute(A, B);

        t[0].Should().BeApproximately((0.70f - 0.30f) / 0.20f, 1e-5f);   // 2.0
        t[1].Should().BeApproximately((0.20f - 0.40f) / 0.25f, 1e-5f);   // -0.8
        t[2].Should().BeApproximately(MathF.Log(0.40f / 0.20f), 1e-5f);  // log 2
        t[3].Should().BeApproximately(MathF.Log(0.10f / 0.25f), 1e-5f);  // log 0.4
    }

    [Test]
    public void Image_normalised_targets_use_plain_offsets()
    {
        var t = RelativeBoxTargets.Compute(A, B, TargetParameterization.ImageNormalized);

        t[0].Should().BeApproximately(0.40f, 1e-5f);
        t[1].Should().BeApproximately(-0.20f, 1e-5f);
        t[2].Should().BeApproximately(MathF.Log(2f), 1e-5f);
    }

    [Test]
    public void Identical_boxes_give_zero_targets()
    {
        RelativeBoxTargets.Compute(A, A).Should().OnlyContain(v => Math.Abs(v) < 1e-6f);
    }

    [Test]
    public void Unmirrored_pair_uses_the_boxes_as_drawn()
    {
        RelativeBoxTargets.Compute(new ViewPair(A, B, Mirrored: false)).Should().Equal(RelativeBoxTargets.Compute(A, B));
    }

    [Test]
    public void Mirrored_pair_computes_targets_in_the_mirrored_frame_so_dx_flips_sign_and_the_rest_stays()
    {
        var plain = RelativeBoxTargets.Compute(A, B);
        var mirrored = RelativeBoxTargets.Compute(new ViewPair(A, B, Mirrored: true));

        mirrored.Should().Equal(RelativeBoxTargets.Compute(A.Mirrored(), B.Mirrored()));
        mirrored[0].Should().BeApproximately(-plain[0], 1e-5f);
        mirrored[1].Should().BeApproximately(plain[1], 1e-6f);
        mirrored[2].Should().BeApproximately(plain[2], 1e-6f);
        mirrored[3].Should().BeApproximately(plain[3], 1e-6f);
    }
}
