namespace SpatialPrediction.ML.Backbones;

/// <summary>Architecture choices that are not learned.</summary>
/// <param name="Kind">The architecture.</param>
/// <param name="Width">Base channel width (small ResNet only).</param>
/// <param name="PatchSize">Patch side in pixels (ViTs only).</param>
/// <param name="ImageSize">Input side the position embeddings are learned for (ViTs only).</param>
/// <param name="Normalization">How images become the network's input.</param>
public sealed record BackboneSpec(BackboneKind Kind, int Width = 32, int PatchSize = 8, int ImageSize = 64,
    InputNormalization Normalization = InputNormalization.ImageNet);

/// <summary>Builds a freshly initialised backbone (the kinds are declared in <see cref="BackboneRegistry"/>).</summary>
internal static class BackboneFactory
{
    /// <summary>Creates the backbone the spec describes.</summary>
    public static BackboneModule Create(BackboneSpec spec)
    {
        var module = BackboneRegistry.For(spec.Kind).Create(spec);
        if (spec.Normalization == InputNormalization.BgrMeanImage) module.UseBgrMeanImage();
        else if (spec.Normalization != InputNormalization.ImageNet)
            throw new ArgumentOutOfRangeException(nameof(spec), spec.Normalization, $"Input normalisation '{spec.Normalization}' is not known.");
        return module;
    }
}
