using SpatialPrediction.ML.Machine;

namespace SpatialPrediction.ML.Tests.Machine;

public class OneDnnSafeModeTests
{
    private static readonly OneDnnCacheView Healthy = new("AMD", new long[] { 32768, 524288, 16777216 }, null);
    private static readonly OneDnnCacheView Affected = new("AMD", new long[] { 1, 1, 1 }, "CPUID leaf 0x8000001D subleaf 0, 2, 3 describes no cache");

    [Test]
    public void Auto_turns_the_safe_mode_on_only_where_the_caches_are_hidden()
    {
        OneDnnSafeMode.Decide("auto", Healthy).SafeMode.Should().BeFalse();
        OneDnnSafeMode.Decide("auto", null).SafeMode.Should().BeFalse();
        var affected = OneDnnSafeMode.Decide("auto", Affected);
        affected.SafeMode.Should().BeTrue();
        affected.Reason.Should().Contain("0x8000001D");
    }

    [Test]
    public void The_setting_forces_it_either_way_and_says_so()
    {
        OneDnnSafeMode.Decide("on", Healthy).Should().Be(new OneDnnMode(true,
            "forced by SPATIAL_PREDICTION_ONEDNN_SAFE_MODE=on (this processor's cache sizes look sound)"));
        var off = OneDnnSafeMode.Decide("off", Affected);
        off.SafeMode.Should().BeFalse();
        off.Reason.Should().Contain("=off").And.Contain("results may be wrong");
        off.ToString().Should().StartWith("oneDNN as usual: ");
    }

    [Test]
    public void This_process_decided_as_its_processor_and_setting_say()
    {
        var current = OneDnnMode.Current;

        var cpuid = CpuidRegisters.OfThisProcessor();
        string setting = Environment.GetEnvironmentVariable(OneDnnMode.EnvironmentVariable) ?? "auto";
        current.SafeMode.Should().Be(OneDnnSafeMode.Decide(setting, cpuid is null ? null : OneDnnCacheView.Read(cpuid)).SafeMode, current.Reason);
    }
}
