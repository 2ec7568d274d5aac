using SpatialPrediction.ML.Machine;
using FluentAssertions;
using NUnit.Framework;
using SpatialPrediction.ML.Backbones;
using static SpatialPrediction.ML.Tests.Machine.CpuDescriptionTests;

namespace SpatialPrediction.ML.Tests.Machine;

public class CalibrationCacheTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-calibration-cache-";

    private static string Key(string shape) => string.Join("|", CalibrationCache.MachineKey(), shape);

    [Test]
    public void A_value_is_measured_once_and_then_read_from_the_file()
    {
        int measured = 0;
        CalibrationCache.GetOrMeasure("values.json", Key("a"), Folder, () => ++measured * 10, out _).Should().Be(10);
        CalibrationCache.GetOrMeasure("values.json", Key("a"), Folder, () => ++measured * 10, out bool cached).Should().Be(10);
        cached.Should().BeTrue();
        measured.Should().Be(1);
        CalibrationCache.Read<int>(Path.Combine(Folder, "values.json")).Should().ContainKey(Key("a")).WhoseValue.Should().Be(10);
    }

    [Test]
    public void An_entry_another_process_wrote_while_this_one_measured_is_kept()
    {
        string file = Path.Combine(Folder, "values.json");
        int value = CalibrationCache.GetOrMeasure("values.json", Key("mine"), Folder, () =>
        {
            // Another process finishing its own measurement meanwhile.
            CalibrationCache.Write(file, new Dictionary<string, int> { [Key("theirs")] = 7 });
            return 3;
        }, out bool cached);

        cached.Should().BeFalse();
        value.Should().Be(3);
        var onDisk = CalibrationCache.Read<int>(file);
        onDisk.Should().ContainKey(Key("theirs")).WhoseValue.Should().Be(7);
        onDisk.Should().ContainKey(Key("mine")).WhoseValue.Should().Be(3);
    }

    [Test]
    public void A_damaged_file_costs_a_measurement_and_is_replaced()
    {
        File.WriteAllText(Path.Combine(Folder, "values.json"), "{ not json");

        CalibrationCache.GetOrMeasure("values.json", Key("a"), Folder, () => 5, out bool cached).Should().Be(5);
        cached.Should().BeFalse();
        CalibrationCache.GetOrMeasure("values.json", Key("a"), Folder, () => 6, out cached).Should().Be(5);
        cached.Should().BeTrue();
    }

    [Test]
    public void The_machine_key_names_the_CPU_it_is_asked_about()
    {
        var zen4 = CpuDescription.Parse(X86(25, 17, "sse2 avx512f avx512_bf16"));
        var xeon = CpuDescription.Parse(X86(6, 207, "sse2 avx512f avx512_bf16"));

        CalibrationCache.MachineKey(zen4).Should().NotBe(CalibrationCache.MachineKey(xeon));
        CalibrationCache.MachineKey(zen4).Should().StartWith(zen4!.Identity);
    }
}
