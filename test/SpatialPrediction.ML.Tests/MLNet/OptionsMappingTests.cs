using System.Collections;
using System.Reflection;
using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML.Tests.MLNet;

/// <summary>
/// The public options are mapped onto the engine's settings in one method; these tests make a forgotten line fail:
/// every option, changed alone, changes the settings the engine receives, unless it is named here as read by the
/// estimator or the featuriser instead.
/// </summary>
public class OptionsMappingTests
{
    /// <summary>Options the estimator or the featuriser reads itself: columns, decoding, the image cache, featurisation.</summary>
    private static readonly string[] ReadOutsideTheEngine =
    {
        "InputColumnName", "OutputColumnName", "SkipUnreadableImages", "Resizing", "FeatureMapColumnName", "SpatialPyramid", "PixelHeight", "PixelWidth",
        "Device", "Runtime.ImageCache", "Runtime.ImageCacheShorterSide", "Runtime.ImageCacheMemoryLimitMegabytes", "Runtime.ImageCacheFolder",
        "Runtime.DecodeThreads", "Runtime.FeaturizationPrecision", "Runtime.FeaturizationEngine", "Runtime.FeaturizationBatchSize",
    };

    /// <summary>Other values of the same type, most telling first; the first that the options accept is used.</summary>
    private static IEnumerable<object> Candidates(string path, Type type, object? value)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (path == "Framework") return new object[] { SpatialPrediction.ML.Objectives.SslFramework.Dino };
        return value switch
        {
            null when underlying == typeof(double) => new object[] { 0.05, 0.5 },
            null when underlying == typeof(float) => new object[] { 0.05f, 0.5f },
            null when underlying == typeof(int) => new object[] { 3 },
            null when underlying == typeof(string) => new object[] { "changed" },
            int i => new object[] { i * 2, i + 1, i - 1, 2, 64 },
            double d => new object[] { d / 2, d * 2, d + 0.25, 0.25 },
            float f => new object[] { f / 2, f * 2, f + 0.25f, 0.25f },
            bool b => new object[] { !b },
            string s => new object[] { s + "x" },
            Enum e => Enum.GetValues(underlying).Cast<object>().Where(v => !v.Equals(e)),
            _ => Array.Empty<object>(),
        };
    }

    /// <summary>Every settable option path with a simple value: (path, a fresh options object with that one value changed, or null when no other value is accepted).</summary>
    private static IEnumerable<(string Path, SpatialPretrainOptions? Options)> OneChangeEach()
    {
        IEnumerable<(string Path, PropertyInfo[] Chain)> Paths(Type type, string prefix, PropertyInfo[] chain)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
            {
                var here = chain.Append(property).ToArray();
                var kind = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                if (kind.IsPrimitive || kind.IsEnum || kind == typeof(string) || kind == typeof(decimal)) yield return (prefix + property.Name, here);
                else if (kind.IsClass && kind.Namespace?.StartsWith("SpatialPrediction.ML", StringComparison.Ordinal) == true && kind != typeof(SpatialBackbone))
                    foreach (var inner in Paths(kind, prefix + property.Name + ".", here)) yield return inner;
            }
        }

        foreach (var (path, chain) in Paths(typeof(SpatialPretrainOptions), "", Array.Empty<PropertyInfo>()))
        {
            if (path == "StartingPointPenalty") continue; // refused without starting weights; StageFreezingTests train with it
            SpatialPretrainOptions? accepted = null;
            object? current = chain[^1].GetValue(Owner(new SpatialPretrainOptions(), chain));
            foreach (var candidate in Candidates(path, chain[^1].PropertyType, current).Where(c => !c.Equals(current)))
            {
                var options = new SpatialPretrainOptions();
                chain[^1].SetValue(Owner(options, chain), candidate);
                try
                {
                    options.ToSettings();
                }
                catch (ArgumentException)
                {
                    continue;
                }
                accepted = options;
                break;
            }
            yield return (path, accepted);
        }
    }

    private static object Owner(SpatialPretrainOptions options, PropertyInfo[] chain)
    {
        object owner = options;
        foreach (var step in chain[..^1]) owner = step.GetValue(owner)!;
        return owner;
    }

    /// <summary>The settings as text, nested records and objects included; delegates and observers left out.</summary>
    private static string Describe(object? value, int depth = 0)
    {
        if (value is null) return "null";
        var type = value.GetType();
        if (type.IsPrimitive || type.IsEnum || value is string or decimal) return Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!;
        if (value is Delegate or CancellationToken || depth > 4) return "-";
        if (value is IEnumerable sequence) return "[" + string.Join(",", sequence.Cast<object?>().Select(v => Describe(v, depth + 1))) + "]";
        if (type.Namespace?.StartsWith("SpatialPrediction.ML", StringComparison.Ordinal) != true) return type.Name;
        return "{" + string.Join(";", type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0)
            .Select(p => $"{p.Name}={Describe(p.GetValue(value), depth + 1)}")) + "}";
    }

    [Test]
    public void Every_option_reaches_the_engine_settings_or_is_named_as_read_elsewhere()
    {
        string baseline = Describe(new SpatialPretrainOptions().ToSettings());
        var changes = OneChangeEach().ToList();
        changes.Select(c => c.Path).Should().Contain(new[] { "Epochs", "Optimizer.WeightDecay", "Dino.LocalCrops", "Runtime.TrainingPrecision",
            "SpatialPrediction.ProjectorWidth", "SpatialPrediction.ViewPairs.MaxIoU" });

        changes.Where(c => c.Options is null).Select(c => c.Path).Should().BeEmpty("every option needs a second valid value to be checked");
        var lost = new List<string>();
        foreach (var (path, options) in changes.Where(c => !ReadOutsideTheEngine.Contains(c.Path)))
            if (Describe(options!.ToSettings()) == baseline) lost.Add(path);

        lost.Should().BeEmpty("each of these options changes nothing the engine receives");
    }

    [Test]
    public void The_options_named_as_read_elsewhere_really_leave_the_engine_settings_alone()
    {
        string baseline = Describe(new SpatialPretrainOptions().ToSettings());
        foreach (var (path, options) in OneChangeEach().Where(c => ReadOutsideTheEngine.Contains(c.Path)))
            Describe(options!.ToSettings()).Should().Be(baseline, $"{path} is listed as read outside the engine");
    }
}
