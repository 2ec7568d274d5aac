using System.Reflection;
using SpatialPrediction.ML.Objectives;

namespace SpatialPrediction.ML.Tests.MLNet;

/// <summary>
/// The library's public face stays small: a type made public is a promise to every user, so a new one has to displace
/// another or be an extension point. The analyzers' PublicAPI files track members; this tracks the count and the
/// types that only the build, the benchmarks or the engine's own machinery need.
/// </summary>
public class PublicSurfaceTests
{
    private static readonly Type[] ExtensionPoints = { typeof(SelfSupervisedObjective) };

    private const int TypeBudget = 60;

    [Test]
    public void Public_types_fit_the_budget_besides_the_extension_points()
    {
        var exported = typeof(SpatialBackbone).Assembly.GetExportedTypes();
        var counted = exported.Except(ExtensionPoints).Select(t => t.FullName).OrderBy(n => n, StringComparer.Ordinal).ToList();
        counted.Count.Should().BeLessThanOrEqualTo(TypeBudget,
            "each public type is a promise to users; fold a new one into an existing face or make it internal. Public now: " + string.Join(", ", counted));
        exported.Should().Contain(ExtensionPoints);
    }

    [TestCase("SpatialPrediction.ML.Interop.ElfVersionNeedPatcher")]
    [TestCase("SpatialPrediction.ML.Machine.OneDnnSafeMode")]
    [TestCase("SpatialPrediction.ML.Machine.TrainingExecution")]
    [TestCase("SpatialPrediction.ML.Machine.LayoutCalibration")]
    [TestCase("SpatialPrediction.ML.Machine.CalibrationCache")]
    [TestCase("SpatialPrediction.ML.Machine.NativeHeapReuse")]
    [TestCase("SpatialPrediction.ML.MLNet.FeaturizationSession")]
    public void Machinery_users_do_not_call_is_internal(string fullName)
    {
        var type = typeof(SpatialBackbone).Assembly.GetType(fullName);
        type.Should().NotBeNull($"{fullName} is expected to exist (update this list if it moved)");
        type!.IsPublic.Should().BeFalse();
    }
}
