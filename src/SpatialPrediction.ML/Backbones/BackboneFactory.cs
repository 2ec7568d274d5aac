namespace SpatialPrediction.ML.Backbones;

/// <summary>Architecture choices that are not learned.</summary>
/// <param name="Kind">The architecture.</param>
/// <param name="Width">Base channel width (small ResNet only).</param>
/// <param name="PatchSize">Patch side in pixels (ViTs only).</param>
/// <param name="ImageSize">Input side the position embeddings are learned for (ViTs only).</param>
public sealed record BackboneSpec(BackboneKind Kind, int Width = 32, int PatchSize = 8, int ImageSize = 64);

/// <summary>Builds a freshly initialised backbone.</summary>
public static class BackboneFactory
{
    /// <summary>Creates the backbone the spec describes.</summary>
    public static BackboneModule Create(BackboneSpec spec)
        => spec.Kind switch
        {
            BackboneKind.SmallResNet => new SmallResNet(spec.Width),
            BackboneKind.ResNet18 or BackboneKind.ResNet50 => new ResNet(spec.Kind),
            BackboneKind.VitTiny or BackboneKind.VitSmall => new VisionTransformer(spec.Kind, spec.PatchSize, spec.ImageSize),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, $"Backbone '{spec.Kind}' is not known."),
        };
}
