using SkiaSharp;
using SpatialPrediction.ML.Reporting;
using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML.Tests.Reporting;

public class ReportingTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-reporting-";

    [Test]
    public void Bar_charts_are_PNGs_with_a_legend_line_per_series_and_whiskers_where_errors_are_given()
    {
        string two = Path.Combine(Folder, "two.png"), four = Path.Combine(Folder, "four.png"), plain = Path.Combine(Folder, "plain.png");
        var metrics = new[] { "linear probe", "style shift (twitter)", "patch-pair mean R² (held-out sampler)" };
        (string, double[], double[]?) Series(string name, double error) => (name, new[] { 0.6, 0.45, 0.1 }, new[] { error, error, error });

        ResultCharts.Bars(two, "two", metrics, new[] { Series("a", 0.2), Series("b", 0.2) });
        ResultCharts.Bars(four, "four", metrics, new[] { Series("a", 0.2), Series("b", 0.2), Series("c", 0.2), Series("d", 0.2) });
        ResultCharts.Bars(plain, "two", metrics, new[] { Series("a", 0), Series("b", 0) });

        using var twoImage = SKBitmap.Decode(two);
        using var fourImage = SKBitmap.Decode(four);
        using var plainImage = SKBitmap.Decode(plain);
        twoImage.Should().NotBeNull();
        fourImage.Height.Should().Be(twoImage.Height + 2 * 20, "each series adds one legend line");
        DarkPixels(twoImage).Should().BeGreaterThan(DarkPixels(plainImage) + 100, "± 0.2 whiskers are drawn in black on top of the bars");
    }

    [Test]
    public void A_series_with_the_wrong_number_of_values_is_refused_by_name()
    {
        var act = () => ResultCharts.Bars(Path.Combine(Folder, "x.png"), "x", new[] { "a", "b" }, new[] { ("short", new[] { 0.5 }) });
        act.Should().Throw<ArgumentException>().WithMessage("*'short' has 1 values for 2 metrics*");
        File.Exists(Path.Combine(Folder, "x.png")).Should().BeFalse();
    }

    [Test]
    public void Labels_wrap_at_spaces_to_the_given_width()
    {
        ResultCharts.Wrap("patch-pair mean R² (held-out sampler)", 12).Split('\n')
            .Should().Equal("patch-pair", "mean R²", "(held-out", "sampler)");
        ResultCharts.Wrap("in-style", 4).Should().Be("in-style", "a single word longer than the width stays whole");
    }

    [Test]
    public void Line_charts_are_written()
    {
        string path = Path.Combine(Folder, "lines.png");
        ResultCharts.Lines(path, "corruption", "severity", new[] { ("a", new[] { 0.9, 0.8, 0.5 }), ("b", new[] { 0.7, 0.6, 0.2 }) });
        using var image = SKBitmap.Decode(path);
        image.Width.Should().Be(1000);
    }

    [Test]
    public void Redirected_progress_prints_a_line_every_tenth_of_the_run()
    {
        var output = new StringWriter();
        using (var progress = new ConsoleProgressBar(output))
            for (int step = 1; step <= 100; step++)
                progress.Report(new PretrainingProgress(step, 100, 1 + step / 50, 1.5f, 0.25f, 1.75f, 1e-3, 64, TimeSpan.FromSeconds(100 - step)));

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(11, "steps 1, 10, 20, … 100 each start a new tenth");
        lines[^1].Should().Contain("step 100/100").And.Contain("loss 1.750 (host 1.500, SP 0.250)").And.Contain("64 img/s");
    }

    private static int DarkPixels(SKBitmap image)
    {
        int count = 0;
        for (int y = 0; y < image.Height; y++)
        for (int x = 0; x < image.Width; x++)
        {
            var c = image.GetPixel(x, y);
            if (c.Red < 40 && c.Green < 40 && c.Blue < 40) count++;
        }
        return count;
    }
}
