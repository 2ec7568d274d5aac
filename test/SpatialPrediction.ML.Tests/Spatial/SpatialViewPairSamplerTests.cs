using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Views;

namespace SpatialPrediction.ML.Tests.Spatial;

public class SpatialViewPairSamplerTests
{
    /// <summary>A picture side at which rounding boxes to whole pixels moves areas by under 0.3 %.</summary>
    private const int Side = 1024;

    [Test]
    public void Every_draw_respects_area_aspect_overlap_and_image_bounds()
    {
        var sampler = new SpatialViewPairSampler { MinArea = 0.05f, MaxArea = 0.3f, MaxIoU = 0.2f };
        var random = new Random(3);

        for (int i = 0; i < 5000; i++)
        {
            var pair = sampler.Sample(random, Side, Side);
            foreach (var box in new[] { pair.Reference, pair.Target })
            {
                box.IsInsideImage.Should().BeTrue();
                box.Area.Should().BeInRange(0.05f * 0.997f, 0.3f * 1.003f);
                (box.Width / box.Height).Should().BeInRange(0.75f * 0.995f, 4f / 3f * 1.005f);
            }
            pair.Reference.IntersectionOverUnion(pair.Target).Should().BeLessThanOrEqualTo(0.2f);
        }
    }

    [Test]
    public void In_a_wide_picture_boxes_are_whole_pixels_with_the_aspect_ratio_measured_in_pixels()
    {
        const int width = 320, height = 180;
        var sampler = new SpatialViewPairSampler { MinAspect = 1f, MaxAspect = 1f };
        var random = new Random(6);

        for (int i = 0; i < 500; i++)
        {
            var pair = sampler.Sample(random, width, height);
            foreach (var box in new[] { pair.Reference, pair.Target })
            {
                var (left, top, w, h) = box.ToPixels(width, height);
                ViewBox.FromPixels(left, top, w, h, width, height).Should().Be(box, "boxes are drawn on the pixel grid");
                ((float)w / h).Should().BeApproximately(1f, 2.5f / h, "a square box in pixels, not in image fractions");
                box.IsInsideImage.Should().BeTrue();
            }
        }
    }

    [Test]
    public void A_minimum_gap_keeps_the_views_apart()
    {
        var sampler = new SpatialViewPairSampler { MinArea = 0.04f, MaxArea = 0.1f, MinGap = 0.1f };
        var random = new Random(4);

        for (int i = 0; i < 2000; i++)
        {
            var pair = sampler.Sample(random, Side, Side);
            pair.Reference.Gap(pair.Target).Should().BeGreaterThanOrEqualTo(0.1f);
            pair.Reference.IntersectionOverUnion(pair.Target).Should().Be(0f);
        }
    }

    [Test]
    public void Mirroring_follows_its_probability()
    {
        var sampler = new SpatialViewPairSampler { MirrorProbability = 0.25f };
        var random = new Random(5);

        double share = Enumerable.Range(0, 4000).Count(_ => sampler.Sample(random, Side, Side).Mirrored) / 4000.0;

        share.Should().BeApproximately(0.25, 0.03);
    }

    [Test]
    public void Same_seed_draws_the_same_pairs()
    {
        var sampler = new SpatialViewPairSampler();
        var first = Enumerable.Range(0, 50).Select(_ => sampler.Sample(new Random(9), Side, Side)).ToList();

        first.Distinct().Should().ContainSingle("a fresh Random with one seed repeats its first draw");
        var r1 = new Random(11);
        var r2 = new Random(11);
        Enumerable.Range(0, 100).Select(_ => sampler.Sample(r1, Side, Side)).Should().Equal(Enumerable.Range(0, 100).Select(_ => sampler.Sample(r2, Side, Side)));
    }

    [Test]
    public void Impossible_constraints_fail_with_a_message_naming_them()
    {
        var sampler = new SpatialViewPairSampler { MinArea = 0.9f, MaxArea = 1f, MaxIoU = 0.05f, MaxAttempts = 200 };

        FluentActions.Invoking(() => sampler.Sample(new Random(1), Side, Side))
            .Should().Throw<InvalidOperationException>().WithMessage("*IoU <= 0.05*MaxArea*");
    }

    [Test]
    public void Invalid_settings_are_rejected_naming_the_setting()
    {
        FluentActions.Invoking(() => new SpatialViewPairSampler { MinArea = 0.5f, MaxArea = 0.2f }.Validate())
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*MinArea*");
        FluentActions.Invoking(() => new SpatialViewPairSampler { MaxIoU = 1.5f }.Validate())
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*MaxIoU*");
    }

    [Test]
    public void Standardised_targets_have_zero_mean_and_unit_variance_under_their_sampler()
    {
        var sampler = new SpatialViewPairSampler();
        var standardizer = TargetStandardizer.Estimate(sampler, TargetParameterization.ReferenceRelative, draws: 4000, seed: 1);
        var random = new Random(2);
        var values = new float[4000, 4];
        var buffer = new float[4];
        for (int i = 0; i < 4000; i++)
        {
            standardizer.Standardize(RelativeBoxTargets.Compute(sampler.Sample(random, Side, Side)), buffer);
            for (int k = 0; k < 4; k++) values[i, k] = buffer[k];
        }

        for (int k = 0; k < 4; k++)
        {
            var column = Enumerable.Range(0, 4000).Select(i => (double)values[i, k]).ToList();
            double mean = column.Average();
            double std = Math.Sqrt(column.Select(v => (v - mean) * (v - mean)).Average());
            mean.Should().BeApproximately(0, 0.08);
            std.Should().BeApproximately(1, 0.08);
        }
    }
}
