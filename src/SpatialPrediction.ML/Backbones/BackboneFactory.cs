namespace SpatialPrediction.ML.Backbones;

/// <summary>Builds a freshly initialised backbone of a given kind.</summary>
public static class BackboneFactory
{
    /// <summary>Creates the backbone. <paramref name="width"/> is the base channel width where the kind has one.</summary>
    public static BackboneModule Create(BackboneKind kind, int width)
        => kind switch
        {
            BackboneKind.SmallResNet => new SmallResNet(width),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Backbone '{kind}' is not available in this version."),
        };
}
