using System.Reflection;
using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML.Tests.Training;

public class FingerprintTests
{
    /// <summary>A different value of the same type, or null when the test does not know how to change one.</summary>
    private static object? Changed(Type type, object? value)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        return value switch
        {
            null when underlying == typeof(double) => 0.5,
            null when underlying == typeof(int) => 3,
            null when underlying == typeof(float) => 0.5f,
            null when underlying == typeof(string) => "changed",
            int i => i + 1,
            double d => d * 2 + 0.125,
            float f => f * 2 + 0.125f,
            bool b => !b,
            string s => s + "x",
            Enum e => Enum.GetValues(underlying).Cast<object>().FirstOrDefault(v => !v.Equals(e)),
            _ => null,
        };
    }

    private static object Clone(object record) => record.GetType().GetMethod("<Clone>$")!.Invoke(record, null)!;

    /// <summary>Every (path, settings with that one value changed) reachable through settable properties and nested records.</summary>
    private static IEnumerable<(string Path, PretrainingSettings Changed)> OneChangeEach(object owner, string path, Func<object, PretrainingSettings> rebuild)
    {
        foreach (var property in owner.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is not null))
        {
            if (property.GetCustomAttribute<NotInFingerprintAttribute>() is not null) continue;
            object? value = property.GetValue(owner);
            string name = path + property.Name;
            if (Changed(property.PropertyType, value) is { } changed)
            {
                var copy = Clone(owner);
                property.SetValue(copy, changed);
                yield return (name, rebuild(copy));
            }
            else if (value is not null && value.GetType().GetMethod("<Clone>$") is not null)
            {
                foreach (var inner in OneChangeEach(value, name + ".", nested =>
                         {
                             var copy = Clone(owner);
                             property.SetValue(copy, nested);
                             return rebuild(copy);
                         }))
                    yield return inner;
            }
        }
    }

    [Test]
    public void Every_setting_that_shapes_the_weights_changes_the_fingerprint()
    {
        var settings = new PretrainingSettings();
        var changes = OneChangeEach(settings, "", copy => (PretrainingSettings)copy).ToList();

        changes.Select(c => c.Path).Should().Contain(new[] { "Epochs", "SpatialPredictionWeight", "SpatialPrediction.ProjectorWidth", "SpatialPrediction.Sampler.MaxIoU", "SpatialPrediction.Loss.Beta" });
        foreach (var (path, changed) in changes)
            changed.Fingerprint().Should().NotBe(settings.Fingerprint(), $"{path} changes what the run computes");
    }

    [Test]
    public void Settings_that_only_observe_or_schedule_the_run_leave_the_fingerprint_alone()
    {
        var settings = new PretrainingSettings();
        var observed = settings with
        {
            CheckpointDirectory = "/somewhere", CheckpointEverySteps = 7, PrefetchBatches = 2, Log = _ => { }, Progress = new Progress<PretrainingProgress>(),
            FeaturizationImageSize = 224, RecalibrateBatchNorm = true,
        };

        observed.Fingerprint().Should().Be(settings.Fingerprint());
    }

    [Test]
    public void A_setting_added_later_is_left_out_at_its_default_so_earlier_checkpoints_still_resume()
    {
        var settings = new PretrainingSettings();

        settings.Fingerprint().Should().NotContain(nameof(PretrainingSettings.StartingPointPenalty), "a penalty of 0 changes nothing the earlier version computed");
        (settings with { StartingPointPenalty = 0.5 }).Fingerprint().Should().Contain("StartingPointPenalty=0.5");
    }

    [Test]
    public void The_fingerprint_does_not_depend_on_the_culture()
    {
        var settings = new PretrainingSettings { LearningRate = 1.5e-3 };
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        string invariant = settings.Fingerprint();
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            settings.Fingerprint().Should().Be(invariant).And.Contain("LearningRate=0.0015");
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }
    }
}
