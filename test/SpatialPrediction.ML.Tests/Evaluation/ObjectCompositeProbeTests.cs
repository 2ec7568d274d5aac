using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Evaluation;

namespace SpatialPrediction.ML.Tests.Evaluation;

/// <summary>The probes on objects pasted onto photographs: where the object is (box) and which locations show it (mask).</summary>
public class ObjectCompositeProbeTests
{
    /// <summary>A white disc on a transparent square of <paramref name="side"/> px, premultiplied RGBA as the decoder gives.</summary>
    private static MLImage Disc(int side = 40)
    {
        var rgba = new byte[side * side * 4];
        double radius = side / 2.0;
        for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++)
        {
            if (Math.Pow(x + 0.5 - radius, 2) + Math.Pow(y + 0.5 - radius, 2) > radius * radius) continue;
            int p = 4 * (y * side + x);
            rgba[p] = rgba[p + 1] = rgba[p + 2] = rgba[p + 3] = 255;
        }
        return MLImage.CreateFromPixels(side, side, MLPixelFormat.Rgba32, rgba);
    }

    /// <summary>An opaque dark photograph stand-in: noise in [0, 120).</summary>
    private static MLImage Background(int seed, int width = 80, int height = 60)
    {
        var random = new Random(seed);
        var rgba = new byte[width * height * 4];
        for (int p = 0; p < rgba.Length; p += 4)
        {
            rgba[p] = (byte)random.Next(120);
            rgba[p + 1] = (byte)random.Next(120);
            rgba[p + 2] = (byte)random.Next(120);
            rgba[p + 3] = 255;
        }
        return MLImage.CreateFromPixels(width, height, MLPixelFormat.Rgba32, rgba);
    }

    /// <summary>Reads the box of the bright pixels: what a featuriser that keeps where things are could hold.</summary>
    private static float[][] OracleFeaturizer(IReadOnlyList<MLImage> images) => images.Select(image =>
    {
        var pixels = image.Pixels;
        int minX = int.MaxValue, minY = int.MaxValue, maxX = -1, maxY = -1;
        for (int y = 0; y < image.Height; y++)
        for (int x = 0; x < image.Width; x++)
        {
            if (pixels[4 * (y * image.Width + x)] < 190) continue;
            minX = Math.Min(minX, x); maxX = Math.Max(maxX, x); minY = Math.Min(minY, y); maxY = Math.Max(maxY, y);
        }
        return new[] { (minX + maxX + 1) / 2f / image.Width, (minY + maxY + 1) / 2f / image.Height,
                       MathF.Log((maxX - minX + 1f) / image.Width), MathF.Log((maxY - minY + 1f) / image.Height) };
    }).ToArray();

    private static (List<MLImage> Objects, List<MLImage> Backgrounds) Data()
        => (Enumerable.Range(0, 12).Select(_ => Disc()).ToList(), Enumerable.Range(0, 3).Select(seed => Background(seed)).ToList());

    [Test]
    public void Composites_put_the_object_where_their_box_and_mask_say()
    {
        var (objects, backgrounds) = Data();
        var options = new ObjectCompositeOptions { Side = 64, Seed = 3 };

        var composites = SpatialEvaluation.ObjectComposites(objects, backgrounds, perObject: 2, options);
        var again = SpatialEvaluation.ObjectComposites(objects, backgrounds, perObject: 2, options);

        composites.Should().HaveCount(24);
        composites.Select(c => c.Box).Should().Equal(again.Select(c => c.Box), "the same seed draws the same composites");
        foreach (var composite in composites)
        {
            var box = composite.Box;
            box.Width.Should().BeInRange(0.3f - 1e-4f, 0.7f + 1e-4f);
            (box.CenterX - box.Width / 2).Should().BeGreaterThanOrEqualTo(-1e-4f);
            (box.CenterY + box.Height / 2).Should().BeLessThanOrEqualTo(1 + 1e-4f);
            double discArea = Math.PI * Math.Pow(box.Width * 64 / 2, 2);
            composite.Mask.Count(m => m == 1).Should().BeCloseTo((int)discArea, (uint)(0.1 * discArea + 4), "the mask is the disc");
            var pixels = composite.Image.Pixels;
            int centre = 4 * ((int)(box.CenterY * 64) * 64 + (int)(box.CenterX * 64));
            pixels[centre].Should().BeGreaterThan(240, "the object is drawn at its box's centre");
            pixels[3].Should().Be(255, "composites are opaque");
        }
        foreach (var composite in composites.Concat(again)) composite.Image.Dispose();
    }

    [Test]
    public void A_featuriser_that_keeps_where_the_object_is_localises_it_on_held_out_objects()
    {
        var (objects, backgrounds) = Data();

        var report = SpatialEvaluation.LocalizationProbe(OracleFeaturizer, objects, backgrounds, new LocalizationOptions { CompositesPerObject = 4 });

        TestContext.Out.WriteLine(string.Join(", ", report.Targets.Select(t => $"{t.Target} R² {t.RSquared:F3}")) + $", IoU {report.MeanIntersectionOverUnion:F3}");
        report.Targets.Should().OnlyContain(t => t.RSquared > 0.9);
        report.MeanIntersectionOverUnion.Should().BeGreaterThan(0.75);
        report.TrainingComposites.Should().Be(24);
        report.TestComposites.Should().Be(24);
    }

    [Test]
    public void A_featuriser_that_knows_nothing_scores_no_R_squared_and_a_worse_IoU()
    {
        var (objects, backgrounds) = Data();
        var options = new LocalizationOptions { CompositesPerObject = 4 };

        var blind = SpatialEvaluation.LocalizationProbe(images => images.Select(_ => new[] { 1f, 2f }).ToArray(), objects, backgrounds, options);
        var oracle = SpatialEvaluation.LocalizationProbe(OracleFeaturizer, objects, backgrounds, options);

        blind.Targets.Should().OnlyContain(t => t.RSquared < 0.05);
        blind.MeanIntersectionOverUnion.Should().BeLessThan(oracle.MeanIntersectionOverUnion - 0.2);
    }

    [Test]
    public void Too_few_objects_or_a_bad_split_are_refused_with_what_was_expected()
    {
        var (objects, backgrounds) = Data();

        FluentActions.Invoking(() => SpatialEvaluation.LocalizationProbe(OracleFeaturizer, objects.Take(3).ToList(), backgrounds))
            .Should().Throw<ArgumentException>().WithMessage("*at least 4 objects*got 3*");
        FluentActions.Invoking(() => SpatialEvaluation.LocalizationProbe(OracleFeaturizer, objects, backgrounds, new LocalizationOptions { TrainFraction = 1 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*TrainFraction*");
        FluentActions.Invoking(() => SpatialEvaluation.ObjectComposites(objects, Array.Empty<MLImage>()))
            .Should().Throw<ArgumentException>().WithMessage("*No backgrounds*");
    }

    /// <summary>An 8×8 map whose one channel is each cell's mean red: enough to tell the white object from the dark background.</summary>
    private static FeatureMap[] BrightnessMaps(IReadOnlyList<MLImage> images) => images.Select(image =>
    {
        const int cells = 8;
        var values = new float[cells * cells];
        var pixels = image.Pixels;
        for (int y = 0; y < image.Height; y++)
        for (int x = 0; x < image.Width; x++)
            values[y * cells / image.Height * cells + x * cells / image.Width] += pixels[4 * (y * image.Width + x)] / 255f;
        return new FeatureMap(1, cells, cells, values);
    }).ToArray();

    [Test]
    public void A_feature_map_that_keeps_brightness_segments_the_object_and_a_blind_one_does_not()
    {
        var (objects, backgrounds) = Data();
        var composites = SpatialEvaluation.ObjectComposites(objects, backgrounds, perObject: 2, new ObjectCompositeOptions { Side = 32 });
        var train = composites.Take(12).ToList();
        var test = composites.Skip(12).ToList();
        var mlContext = new MLContext(seed: 1);

        var seeing = SpatialEvaluation.ForegroundSegmentationProbe(mlContext, BrightnessMaps, train, test);
        var blind = SpatialEvaluation.ForegroundSegmentationProbe(mlContext,
            images => images.Select((_, i) => new FeatureMap(1, 8, 8, Enumerable.Range(0, 64).Select(c => (float)((c * 7 + i) % 5)).ToArray())).ToArray(), train, test);

        TestContext.Out.WriteLine($"mIoU seeing {seeing.MeanIoU:F3}, blind {blind.MeanIoU:F3}");
        seeing.MeanIoU.Should().BeGreaterThan(0.75);
        blind.MeanIoU.Should().BeLessThan(seeing.MeanIoU - 0.2);
        composites[0].Image.Width.Should().Be(32, "the composites' images are left to the caller, not disposed by the probe");
        foreach (var composite in composites) composite.Image.Dispose();
    }

    [Test]
    public void Read_on_the_feature_map_the_probe_finds_the_object_the_pooled_map_has_averaged_away()
    {
        var (objects, backgrounds) = Data();
        var options = new LocalizationOptions { CompositesPerObject = 4 };
        FeatureMap[] Pooled(IReadOnlyList<MLImage> images)
            => BrightnessMaps(images).Select(m => new FeatureMap(1, 1, 1, new[] { m.Values.Average() })).ToArray();

        var onTheMap = SpatialEvaluation.LocalizationProbe(((DenseFeaturizer)BrightnessMaps).AsImageFeaturizer(), objects, backgrounds, options);
        var pooled = SpatialEvaluation.LocalizationProbe(((DenseFeaturizer)Pooled).AsImageFeaturizer(), objects, backgrounds, options);

        TestContext.Out.WriteLine($"IoU map {onTheMap.MeanIntersectionOverUnion:F3}, pooled {pooled.MeanIntersectionOverUnion:F3}");
        ((DenseFeaturizer)BrightnessMaps).AsImageFeaturizer()(objects.Take(2).ToList()).Should().OnlyContain(v => v.Length == 64);
        onTheMap.Targets.Take(2).Should().OnlyContain(t => t.RSquared > 0.5, "the map says where the bright object is");
        pooled.Targets.Take(2).Should().OnlyContain(t => t.RSquared < 0.2, "mean brightness does not say where");
        onTheMap.MeanIntersectionOverUnion.Should().BeGreaterThan(pooled.MeanIntersectionOverUnion + 0.1);
    }
}
