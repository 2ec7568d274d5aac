using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Backbones;

public class LayoutCalibrationTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-layout-";

    private static readonly BackboneSpec ResNet18 = new(BackboneKind.ResNet18, ImageSize: 32);

    [Test]
    public void Auto_measures_both_layouts_once_then_answers_from_the_cache()
    {
        var first = LayoutCalibration.Resolve(ConvolutionLayout.Auto, ResNet18, 4, 32, training: true, CPU, Folder);
        var second = LayoutCalibration.Resolve(ConvolutionLayout.Auto, ResNet18, 4, 32, training: true, CPU, Folder);
        var inference = LayoutCalibration.Resolve(ConvolutionLayout.Auto, ResNet18, 4, 32, training: false, CPU, Folder);

        first.Cached.Should().BeFalse();
        first.Candidates.Select(c => c.Layout).Should().Equal(ConvolutionLayout.ChannelsFirst, ConvolutionLayout.ChannelsLast);
        first.Candidates.Should().OnlyContain(c => c.Milliseconds > 0);
        first.Plan.Should().Be(LayoutCalibration.Decide(first.Candidates));
        second.Cached.Should().BeTrue();
        second.Layout.Should().Be(first.Layout);
        second.Candidates.Should().BeEquivalentTo(first.Candidates);
        inference.Cached.Should().BeFalse("inference is a shape of its own");
        File.ReadAllText(Path.Combine(Folder, "layouts.json")).Should().Contain("training").And.Contain("inference");
    }

    [TestCase(100, 95, ConvolutionLayout.ChannelsFirst)]
    [TestCase(100, 99, ConvolutionLayout.ChannelsLast)]
    [TestCase(100, 120, ConvolutionLayout.ChannelsLast)]
    public void Channels_first_wins_only_by_more_than_the_margin(double lastMs, double firstMs, ConvolutionLayout expected)
        => LayoutCalibration.Decide(new LayoutCalibration.Candidate[] { new(ConvolutionLayout.ChannelsFirst, firstMs), new(ConvolutionLayout.ChannelsLast, lastMs) })
            .Should().Be(new ConvolutionPlan(expected));

    [TestCase(100, 120, 95, ConvolutionLayout.ChannelsLast, true)]
    [TestCase(100, 120, 99, ConvolutionLayout.ChannelsLast, false)]
    [TestCase(100, 90, 95, ConvolutionLayout.ChannelsFirst, false)]
    [TestCase(100, 94, 95, ConvolutionLayout.ChannelsLast, true)]
    public void Small_maps_as_matrices_win_only_by_more_than_the_margin_and_channels_first_must_beat_the_better(
        double lastMs, double firstMs, double matricesMs, ConvolutionLayout layout, bool matrices)
        => LayoutCalibration.Decide(new LayoutCalibration.Candidate[]
            {
                new(ConvolutionLayout.ChannelsFirst, firstMs), new(ConvolutionLayout.ChannelsLast, lastMs), new(ConvolutionLayout.ChannelsLast, matricesMs, SmallMapsAsMatrices: true),
            }).Should().Be(new ConvolutionPlan(layout, matrices));

    [Test]
    public void A_training_step_is_timed_over_all_its_passes_and_in_its_precision()
    {
        var passes = new[] { new BackbonePass(4, 32, true), new BackbonePass(4, 16, true), new BackbonePass(4, 32, false) };
        var float32 = LayoutCalibration.Resolve(ConvolutionLayout.Auto, ResNet18, passes, training: true, CPU, bfloat16: false, Folder);
        var bfloat16 = LayoutCalibration.Resolve(ConvolutionLayout.Auto, ResNet18, passes, training: true, CPU, bfloat16: true, Folder);
        var fewer = LayoutCalibration.Resolve(ConvolutionLayout.Auto, ResNet18, passes[..1], training: true, CPU, bfloat16: false, Folder);

        new[] { float32, bfloat16, fewer }.Should().OnlyContain(c => !c.Cached && c.Candidates.Count == 2, "each is a calibration of its own");
        float32.Key.Should().Contain("4×32 px backward + 4×16 px backward + 4×32 px").And.EndWith("float32");
        bfloat16.Key.Should().EndWith("bfloat16");
        FluentActions.Invoking(() => LayoutCalibration.Resolve(ConvolutionLayout.Auto, ResNet18, Array.Empty<BackbonePass>(), true, CPU, false, Folder))
            .Should().Throw<ArgumentException>().WithMessage("*at least one backbone pass*");
    }

    [Test]
    public void A_whole_step_when_given_is_timed_instead_of_the_passes_and_made_only_when_measured()
    {
        var passes = new[] { new BackbonePass(4, 32, true) };
        int made = 0, disposed = 0;
        var ran = new List<ConvolutionPlan>();
        (Action<ConvolutionPlan>, IDisposable) Step()
        {
            made++;
            return (plan =>
            {
                ran.Add(plan);
                Thread.Sleep(plan.Layout == ConvolutionLayout.ChannelsFirst ? 5 : 30); // channels-first clearly faster here
            }, new Disposal(() => disposed++));
        }

        var first = LayoutCalibration.Resolve(ConvolutionLayout.Auto, ResNet18, passes, training: true, CPU, bfloat16: false, Folder, Step);
        var again = LayoutCalibration.Resolve(ConvolutionLayout.Auto, ResNet18, passes, training: true, CPU, bfloat16: false, Folder, Step);

        first.Layout.Should().Be(ConvolutionLayout.ChannelsFirst);
        first.Candidates.Single(c => c.Plan == new ConvolutionPlan(ConvolutionLayout.ChannelsLast)).Milliseconds.Should().BeGreaterThanOrEqualTo(30);
        first.Key.Should().Contain("training step, small maps as matrices");
        ran.Distinct().Should().Equal(new ConvolutionPlan(ConvolutionLayout.ChannelsFirst), new ConvolutionPlan(ConvolutionLayout.ChannelsLast),
            new ConvolutionPlan(ConvolutionLayout.ChannelsLast, SmallMapsAsMatrices: true));
        ran.Should().HaveCount(12, "four alternating rounds of the three candidates, the first a warm-up");
        again.Cached.Should().BeTrue();
        (made, disposed).Should().Be((1, 1), "the throwaway step is made for the measurement only, and released after it");
    }

    private sealed class Disposal(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    [Test]
    public void Fixed_layouts_other_backbones_and_non_cpu_devices_measure_nothing()
    {
        LayoutCalibration.Resolve(ConvolutionLayout.ChannelsFirst, ResNet18, 4, 32, true, CPU, Folder).Should()
            .Match<LayoutCalibration.Choice>(c => c.Layout == ConvolutionLayout.ChannelsFirst && c.Candidates.Count == 0);
        LayoutCalibration.Resolve(ConvolutionLayout.Auto, new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32), 4, 32, true, CPU, Folder)
            .Layout.Should().Be(ConvolutionLayout.ChannelsFirst, "the small ResNet stays channels-first (libtorch's channels-last bug below 16 channels)");
        Directory.GetFiles(Folder).Should().BeEmpty();
    }

    [Test]
    public void Measuring_leaves_the_random_stream_of_the_run_alone_and_a_damaged_cache_is_measured_again()
    {
        File.WriteAllText(Path.Combine(Folder, "layouts.json"), "{ not json");
        manual_seed(3);
        var before = rand(8).data<float>().ToArray();
        manual_seed(3);
        var choice = LayoutCalibration.Resolve(ConvolutionLayout.Auto, ResNet18, 2, 32, training: false, CPU, Folder);
        var after = rand(8).data<float>().ToArray();

        after.Should().Equal(before, "the measurement's module is made without consuming the run's random numbers");
        choice.Cached.Should().BeFalse();
        choice.Candidates.Should().HaveCount(2);
    }

    [Test]
    public void Both_layouts_compute_the_same_features()
    {
        using var backbone = SpatialBackbone.CreateUntrained(ResNet18);
        using var images = rand(3, 3, 32, 32);
        backbone.InferenceLayout = ConvolutionLayout.ChannelsFirst;
        var first = backbone.FeaturizeBatch(images);
        backbone.InferenceLayout = ConvolutionLayout.ChannelsLast;
        var last = backbone.FeaturizeBatch(images);

        last.Zip(first, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-4f);
        backbone.InferenceLayoutChoice!.Layout.Should().Be(ConvolutionLayout.ChannelsLast);
    }
}
