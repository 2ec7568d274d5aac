using SpatialPrediction.ML.Machine;

namespace SpatialPrediction.ML.Tests;

/// <summary>
/// Before any test: the oneDNN safe mode is decided (and, where CPUID hides the caches, oneDNN capped) before the first
/// test can run a convolution through TorchSharp directly, as an application that touches the library first would.
/// </summary>
[SetUpFixture]
public class NativeSetUp
{
    [OneTimeSetUp]
    public void DecideTheOneDnnMode() => TestContext.Progress.WriteLine(OneDnnMode.Current.ToString());
}
