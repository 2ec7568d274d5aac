using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Evaluation;

namespace SpatialPrediction.ML.Tests.Evaluation;

public class RobustnessTests
{
    private static MLImage Scene(int index = 0) => SpatialScenes.ToMLImage(SpatialScenes.Generate(index + 1, new SpatialScenesOptions { ImageSize = 32 })[index]);

    private static double MeanDifference(MLImage a, MLImage b)
    {
        var x = a.Pixels.ToArray();
        var y = b.Pixels.ToArray();
        return Enumerable.Range(0, x.Length).Where(i => i % 4 != 3).Average(i => Math.Abs(x[i] - y[i]));
    }

    [Test]
    public void Severity_zero_leaves_the_image_unchanged_for_every_corruption()
    {
        using var image = Scene();
        foreach (var kind in Enum.GetValues<CorruptionKind>())
        {
            using var same = SpatialEvaluation.Corrupt(image, kind, 0);
            MeanDifference(image, same).Should().Be(0, $"{kind} at severity 0");
        }
    }

    [Test]
    public void Distortion_grows_with_severity_and_repeats_with_the_seed()
    {
        using var image = Scene();
        foreach (var kind in Enum.GetValues<CorruptionKind>())
        {
            var distortion = new[] { 1, 3, 5 }.Select(s =>
            {
                using var corrupted = SpatialEvaluation.Corrupt(image, kind, s, seed: 4);
                return MeanDifference(image, corrupted);
            }).ToList();
            distortion.Should().BeInAscendingOrder($"{kind} should distort more at higher severity");
            distortion[0].Should().BeGreaterThan(0, $"{kind} at severity 1 should change the image");

            using var first = SpatialEvaluation.Corrupt(image, kind, 3, seed: 9);
            using var second = SpatialEvaluation.Corrupt(image, kind, 3, seed: 9);
            MeanDifference(first, second).Should().Be(0);
        }
    }

    /// <summary>Mean RGB of each image: sees colour, which corruptions like contrast and brightness shift.</summary>
    private static float[][] MeanColour(IReadOnlyList<MLImage> images) => images.Select(image =>
    {
        var px = image.Pixels.ToArray();
        return new[] { 0, 1, 2 }.Select(c => (float)Enumerable.Range(0, px.Length / 4).Average(i => px[4 * i + c]) / 255f).ToArray();
    }).ToArray();

    private static MLImage Flat(int label)
    {
        var rgba = new byte[16 * 16 * 4];
        for (int p = 0; p < 256; p++) (rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2], rgba[4 * p + 3]) = ((byte)(40 + 80 * label), 100, 100, 255);
        return MLImage.CreateFromPixels(16, 16, MLPixelFormat.Rgba32, rgba);
    }

    [Test]
    public void Corruption_report_covers_every_kind_and_severity_and_clean_accuracy_matches_the_probe()
    {
        var labels = Enumerable.Range(0, 12).Select(i => i % 3).ToList();
        var images = labels.Select(Flat).ToList();

        var report = SpatialEvaluation.CorruptionRobustness(new MLContext(1), MeanColour, images, labels, images, labels);

        report.CleanAccuracy.Should().Be(1.0);
        report.Scores.Should().HaveCount(Enum.GetValues<CorruptionKind>().Length * 5);
        report.Scores.Where(s => s.Kind == CorruptionKind.Brightness && s.Severity == 5).Single().Accuracy.Should().BeLessThan(1.0,
            "a +0.5 brightness shift moves the colour feature across class boundaries");
        report.MeanCorruptionAccuracy.Should().BeInRange(0, 1);
    }

    [Test]
    public void Corruption_report_at_chosen_severities_holds_only_those_and_rejects_others()
    {
        var labels = Enumerable.Range(0, 12).Select(i => i % 3).ToList();
        var images = labels.Select(Flat).ToList();

        var report = SpatialEvaluation.CorruptionRobustness(new MLContext(1), MeanColour, images, labels, images, labels,
            kinds: new[] { CorruptionKind.Brightness }, severities: new[] { 1, 5 });

        report.Scores.Select(s => (s.Kind, s.Severity)).Should().Equal((CorruptionKind.Brightness, 1), (CorruptionKind.Brightness, 5));
        report.Scores[1].Accuracy.Should().BeLessThan(report.Scores[0].Accuracy, "the stronger shift moves more colours across class boundaries");
        var act = () => SpatialEvaluation.CorruptionRobustness(new MLContext(1), MeanColour, images, labels, images, labels, severities: new[] { 0, 3 });
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*between 1 and 5*");
    }

    [Test]
    public void Style_shift_scores_every_style_of_the_same_test_scenes()
    {
        var train = SpatialScenes.Generate(24, new SpatialScenesOptions { ImageSize = 32, ClassCount = 3 });
        var testOptions = new SpatialScenesOptions { ImageSize = 32, ClassCount = 3, Seed = 2 };

        var scores = SpatialEvaluation.StyleShift(new MLContext(1), MeanColour, train, testOptions, 12);

        scores.Keys.Should().BeEquivalentTo(Enum.GetValues<SceneStyle>());
        scores.Values.Should().OnlyContain(accuracy => accuracy >= 0 && accuracy <= 1);
    }
}
