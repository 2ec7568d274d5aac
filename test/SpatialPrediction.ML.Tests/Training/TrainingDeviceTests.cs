using SpatialPrediction.ML.Training;
using TorchSharp;

namespace SpatialPrediction.ML.Tests.Training;

public class TrainingDeviceTests
{
    [Test]
    public void Without_a_gpu_id_ML_NET_convention_is_the_cpu()
    {
        TrainingDevice.Resolve(null, gpuDeviceId: null, fallbackToCpu: false, cudaAvailable: true).type.Should().Be(DeviceType.CPU);
    }

    [Test]
    public void A_gpu_id_selects_that_cuda_device_when_cuda_is_available()
    {
        var device = TrainingDevice.Resolve(null, gpuDeviceId: 1, fallbackToCpu: false, cudaAvailable: true);

        device.type.Should().Be(DeviceType.CUDA);
        device.index.Should().Be(1);
    }

    [Test]
    public void A_gpu_id_without_cuda_fails_unless_fallback_to_cpu_is_set()
    {
        FluentActions.Invoking(() => TrainingDevice.Resolve(null, 0, fallbackToCpu: false, cudaAvailable: false))
            .Should().Throw<InvalidOperationException>().WithMessage("*cuda:0*FallbackToCpu*");
        TrainingDevice.Resolve(null, 0, fallbackToCpu: true, cudaAvailable: false).type.Should().Be(DeviceType.CPU);
    }

    [Test]
    public void An_explicit_device_overrides_the_context_and_bad_names_are_rejected()
    {
        TrainingDevice.Resolve("cpu", gpuDeviceId: 0, fallbackToCpu: false, cudaAvailable: true).type.Should().Be(DeviceType.CPU);
        FluentActions.Invoking(() => TrainingDevice.Resolve("tpu", null, false, false))
            .Should().Throw<ArgumentException>().WithMessage("*'tpu'*cpu*cuda*");
    }
}
