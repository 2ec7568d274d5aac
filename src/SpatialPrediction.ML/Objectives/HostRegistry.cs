using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// What the engine needs to know about a host objective, declared by the objective itself: how to build it, what it
/// checks in the settings, which extra view sizes the backbone must accept, and the SP weight measured for it.
/// </summary>
/// <param name="Framework">The <see cref="SslFramework"/> value that selects it.</param>
/// <param name="Create">Builds the objective around the backbone (and a factory for teacher copies).</param>
/// <param name="Validate">Throws for settings this objective cannot train with; null checks nothing.</param>
/// <param name="ViewSizes">Sides of its views other than ImageSize, with the option that sets each.</param>
/// <param name="SpatialWeight">λ that a null <c>SpatialPredictionOptions.Weight</c> stands for with this host.</param>
internal sealed record HostRegistration(
    SslFramework Framework,
    Func<PretrainingSettings, BackboneModule, Func<BackboneModule>, HostObjective> Create,
    Action<PretrainingSettings>? Validate = null,
    Func<PretrainingSettings, IEnumerable<(int Size, string Option)>>? ViewSizes = null,
    float SpatialWeight = 0.5f);

/// <summary>
/// The host objectives by framework. A built-in host is its own file with a <c>Registration</c>, its enum value and one
/// line here; a user's host comes through <see cref="SslFramework.Custom"/> (<see cref="SelfSupervisedObjective"/>).
/// </summary>
internal static class HostRegistry
{
    private static readonly Dictionary<SslFramework, HostRegistration> Hosts = new[]
    {
        SimClrObjective.Registration,
        MoCoV3Objective.Registration,
        ByolObjective.Registration,
        DinoObjective.Registration,
        CustomHostObjective.Registration,
    }.ToDictionary(r => r.Framework);

    /// <summary>The registration of <paramref name="framework"/>; null for <see cref="SslFramework.None"/>.</summary>
    public static HostRegistration? For(SslFramework framework)
        => framework == SslFramework.None ? null
            : Lookup(framework) is { } registration ? registration
            : throw new ArgumentOutOfRangeException(nameof(framework), framework, $"Framework '{framework}' is not known; known: None, {string.Join(", ", Hosts.Keys)}.");

    private static HostRegistration? Lookup(SslFramework framework) => Hosts.GetValueOrDefault(framework);
}
