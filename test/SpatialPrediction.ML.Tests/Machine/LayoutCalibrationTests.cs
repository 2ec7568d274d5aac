using SpatialPrediction.ML.Machine;
using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Machine;

public class LayoutCalibrationTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-layout-";

    private static readonly BackboneSpec ResNet18 = new(BackboneKind.ResNet18, ImageSize: 32);

    /// <summary>A stand-in for the throwaway training step: records the plans it ran and how often it was made and released.</summary>
    private sealed class FakeStep
    {
        public readonly List<ConvolutionPlan> Ran = new();
        public int Made, Disposed;

        public (Action<ConvolutionPlan>, IDisposable) Make()
        {
            Made++;
            return (plan =>
            {
                Ran.Add(plan);
                Thread.Sleep(plan.Layout == ConvolutionLayout.ChannelsFirst ? 5 : 30); // channels-first clearly faster here
            }, new Disposal(() => Disposed++));
        }
    }

    [Test]
    public void Auto_measures_both_layouts_once_then_answers_from_the_cache()
    {
        var first = LayoutCalibration.ResolveInference(ConvolutionLayout.Auto, ResNet18, 4, 32, CPU, Folder);
        var second = LayoutCalibration.ResolveInference(ConvolutionLayout.Auto, ResNet18, 4, 32, CPU, Folder);
        var training = LayoutCalibration.ResolveTraining(ConvolutionLayout.Auto, ResNet18, new[] { new BackbonePass(4, 32, false) }, CPU,
            bfloat16: false, new FakeStep().Make, Folder);

        first.Cached.Should().BeFalse();
        first.Candidates.Select(c => c.Layout).Should().Equal(ConvolutionLayout.ChannelsFirst, ConvolutionLayout.ChannelsLast);
        first.Candidates.Should().OnlyContain(c => c.Milliseconds > 0);
        first.Plan.Should().Be(LayoutCalibration.Decide(first.Candidates));
        first.ToString().Should().Contain("per pass, measured");
        second.Cached.Should().BeTrue();
        second.Layout.Should().Be(first.Layout);
        second.Candidates.Should().BeEquivalentTo(first.Candidates);
        training.Cached.Should().BeFalse("a training step is a calibration of its own, even at the same batch and size");
        training.ToString().Should().Contain("per step, measured");
        File.ReadAllText(Path.Combine(Folder, "layouts.json")).Should().Contain("training step").And.Contain("inference");
    }

    [Test]
    public void An_entry_measured_by_another_build_of_the_library_is_measured_again_and_dropped()
    {
        var measured = LayoutCalibration.ResolveInference(ConvolutionLayout.Auto, ResNet18, 2, 32, CPU, Folder);
        string file = Path.Combine(Folder, "layouts.json");
        var fields = measured.Key.Split('|');
        fields[CalibrationCache.MachineKey().Split('|').Length - 1] = "000000000000"; // the build field: the machine key's last
        string otherBuild = string.Join("|", fields);
        var entries = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        var entry = entries[measured.Key]!;
        entries.Remove(measured.Key);
        entries[otherBuild] = entry;
        File.WriteAllText(file, entries.ToJsonString());

        var again = LayoutCalibration.ResolveInference(ConvolutionLayout.Auto, ResNet18, 2, 32, CPU, Folder);

        again.Cached.Should().BeFalse("the only entry for this shape was measured by another build");
        again.Key.Should().Be(measured.Key);
        System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file))!.AsObject().Select(e => e.Key).Should().Equal(measured.Key);
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
    public void A_training_step_is_calibrated_per_set_of_passes_and_per_precision()
    {
        var passes = new[] { new BackbonePass(4, 32, true), new BackbonePass(4, 16, true), new BackbonePass(4, 32, false) };
        var step = new FakeStep();
        var float32 = LayoutCalibration.ResolveTraining(ConvolutionLayout.Auto, ResNet18, passes, CPU, bfloat16: false, step.Make, Folder);
        var bfloat16 = LayoutCalibration.ResolveTraining(ConvolutionLayout.Auto, ResNet18, passes, CPU, bfloat16: true, step.Make, Folder);
        var fewer = LayoutCalibration.ResolveTraining(ConvolutionLayout.Auto, ResNet18, passes[..1], CPU, bfloat16: false, step.Make, Folder);

        new[] { float32, bfloat16, fewer }.Should().OnlyContain(c => !c.Cached && c.Candidates.Count == 3, "each is a calibration of its own");
        step.Made.Should().Be(3);
        float32.Key.Should().Contain("4×32 px backward + 4×16 px backward + 4×32 px").And.EndWith("float32");
        bfloat16.Key.Should().EndWith("bfloat16");
        FluentActions.Invoking(() => LayoutCalibration.ResolveTraining(ConvolutionLayout.Auto, ResNet18, Array.Empty<BackbonePass>(), CPU, false, step.Make, Folder))
            .Should().Throw<ArgumentException>().WithMessage("*at least one backbone pass*");
    }

    [Test]
    public void A_whole_step_is_timed_in_each_plan_and_made_only_when_measured()
    {
        var passes = new[] { new BackbonePass(4, 32, true) };
        var step = new FakeStep();

        var first = LayoutCalibration.ResolveTraining(ConvolutionLayout.Auto, ResNet18, passes, CPU, bfloat16: false, step.Make, Folder);
        var again = LayoutCalibration.ResolveTraining(ConvolutionLayout.Auto, ResNet18, passes, CPU, bfloat16: false, step.Make, Folder);

        first.Layout.Should().Be(ConvolutionLayout.ChannelsFirst);
        first.Candidates.Single(c => c.Plan == new ConvolutionPlan(ConvolutionLayout.ChannelsLast)).Milliseconds.Should().BeGreaterThanOrEqualTo(30);
        first.Key.Should().Contain("training step, small maps as matrices");
        step.Ran.Distinct().Should().Equal(new ConvolutionPlan(ConvolutionLayout.ChannelsFirst), new ConvolutionPlan(ConvolutionLayout.ChannelsLast),
            new ConvolutionPlan(ConvolutionLayout.ChannelsLast, SmallMapsAsMatrices: true));
        step.Ran.Should().HaveCount(12, "four alternating rounds of the three candidates, the first a warm-up");
        again.Cached.Should().BeTrue();
        (step.Made, step.Disposed).Should().Be((1, 1), "the throwaway step is made for the measurement only, and released after it");
    }

    [Test]
    public void Backbones_without_basic_blocks_time_the_two_layouts_only()
    {
        var step = new FakeStep();
        var choice = LayoutCalibration.ResolveTraining(ConvolutionLayout.Auto, new BackboneSpec(BackboneKind.ResNet50, ImageSize: 32),
            new[] { new BackbonePass(2, 32, true) }, CPU, bfloat16: false, step.Make, Folder);

        choice.Candidates.Should().HaveCount(2).And.OnlyContain(c => !c.SmallMapsAsMatrices);
        step.Ran.Should().HaveCount(8, "four alternating rounds of two candidates");
    }

    private sealed class Disposal(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    [Test]
    public void Fixed_layouts_and_other_backbones_measure_nothing()
    {
        var step = new FakeStep();
        var passes = new[] { new BackbonePass(4, 32, true) };
        LayoutCalibration.ResolveTraining(ConvolutionLayout.ChannelsFirst, ResNet18, passes, CPU, false, step.Make, Folder).Should()
            .Match<LayoutCalibration.Choice>(c => c.Layout == ConvolutionLayout.ChannelsFirst && c.Candidates.Count == 0);
        LayoutCalibration.ResolveInference(ConvolutionLayout.ChannelsLast, ResNet18, 4, 32, CPU, Folder).Should()
            .Match<LayoutCalibration.Choice>(c => c.Layout == ConvolutionLayout.ChannelsLast && c.Candidates.Count == 0);
        LayoutCalibration.ResolveTraining(ConvolutionLayout.Auto, new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32), passes, CPU, false, step.Make, Folder)
            .Layout.Should().Be(ConvolutionLayout.ChannelsFirst, "the small ResNet stays channels-first (libtorch's channels-last bug below 16 channels)");
        step.Made.Should().Be(0);
        Directory.GetFiles(Folder).Should().BeEmpty();
    }

    [Test]
    public void Measuring_leaves_the_random_stream_of_the_run_alone_and_a_damaged_cache_is_measured_again()
    {
        File.WriteAllText(Path.Combine(Folder, "layouts.json"), "{ not json");
        manual_seed(3);
        var before = rand(8).data<float>().ToArray();
        manual_seed(3);
        var choice = LayoutCalibration.ResolveInference(ConvolutionLayout.Auto, ResNet18, 2, 32, CPU, Folder);
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
        backbone.Featurization.InferenceLayout = ConvolutionLayout.ChannelsFirst;
        var first = backbone.Featurization.FeaturizeBatch(images);
        backbone.Featurization.InferenceLayout = ConvolutionLayout.ChannelsLast;
        var last = backbone.Featurization.FeaturizeBatch(images);

        last.Zip(first, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-4f);
        backbone.Featurization.InferenceLayoutChoice!.Layout.Should().Be(ConvolutionLayout.ChannelsLast);
    }
}
