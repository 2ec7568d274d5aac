using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Machine;
using TorchSharp;

namespace SpatialPrediction.ML.Tests.Machine;

[NonParallelizable] // the heap policy is process-wide
public class TrainingExecutionTests
{
    [Test]
    public void It_holds_the_heap_only_when_asked_and_lets_go_when_disposed()
    {
        var log = new List<string>();
        using (var plain = TrainingExecution.Begin(torch.CPU, ComputePrecision.Float32, reuseNativeMemory: false, log.Add))
        {
            NativeHeapReuse.Held.Should().BeFalse();
            plain.OneDnn.Should().Be(OneDnnMode.Current);
        }
        log.Should().NotContain(l => l.StartsWith("Native heap"));

        using (TrainingExecution.Begin(torch.CPU, ComputePrecision.Float32, reuseNativeMemory: true, log.Add))
            NativeHeapReuse.Held.Should().Be(NativeHeapReuse.Available);
        NativeHeapReuse.Held.Should().BeFalse();
        if (NativeHeapReuse.Available) log.Should().ContainSingle(l => l.StartsWith("Native heap: glibc keeps freed memory"));
    }

    [Test]
    public void A_requested_layout_is_used_as_it_is_without_timing_a_step()
    {
        var log = new List<string>();
        using var execution = TrainingExecution.Begin(torch.CPU, ComputePrecision.Float32, reuseNativeMemory: false, log.Add);
        var spec = new BackboneSpec(BackboneKind.SmallResNet, 8);
        var passes = new[] { new BackbonePass(4, 32, true) };
        bool timed = false;
        var plan = execution.ChooseConvolutionPlan(ConvolutionLayout.ChannelsFirst, spec, passes, torch.CPU, bfloat16: false, () =>
        {
            timed = true;
            throw new InvalidOperationException("a requested layout needs no measurement");
        });
        plan.Layout.Should().Be(ConvolutionLayout.ChannelsFirst);
        execution.Layout!.Layout.Should().Be(ConvolutionLayout.ChannelsFirst);
        timed.Should().BeFalse();
        log.Should().NotContain(l => l.StartsWith("Convolution layout"));
    }
}
