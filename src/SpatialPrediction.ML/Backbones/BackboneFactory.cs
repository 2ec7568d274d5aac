namespace SpatialPrediction.ML.Backbones;

/// <summary>Architecture choices that are not learned.</summary>
/// <param name="Kind">The architecture.</param>
/// <param name="Width">Base channel width (small ResNet only).</param>
/// <param name="PatchSize">Patch side in pixels (ViTs only).</param>
/// <param name="ImageSize">Input side the position embeddings are learned for (ViTs only).</param>
/// <param name="Normalization">How images become the network's input.</param>
public sealed record BackboneSpec(BackboneKind Kind, int Width = 32, int PatchSize = 8, int ImageSize = 64,
    InputNormalization Normalization = InputNormalization.ImageNet);

/// <summary>Builds a freshly initialised backbone.</summary>
internal static class BackboneFactory
{
    /// <summary>Whether <paramref name="kind"/> can run channels-last on the CPU (the ResNets; see <see cref="BackboneModule.Layout"/>).</summary>
    public static bool SupportsChannelsLast(BackboneKind kind) => kind is BackboneKind.ResNet18 or BackboneKind.CntkResNet18 or BackboneKind.ResNet50;

    /// <summary>Whether <paramref name="kind"/> is built of basic blocks, whose small-map convolutions can run as matrices (<see cref="SmallMapConvolution"/>).</summary>
    public static bool HasBasicBlocks(BackboneKind kind) => kind is BackboneKind.ResNet18 or BackboneKind.CntkResNet18;

    /// <summary>Creates the backbone the spec describes.</summary>
    public static BackboneModule Create(BackboneSpec spec)
    {
        BackboneModule module = spec.Kind switch
        {
            BackboneKind.SmallResNet => new SmallResNet(spec.Width),
            BackboneKind.ResNet18 or BackboneKind.CntkResNet18 or BackboneKind.ResNet50 => new ResNet(spec.Kind),
            BackboneKind.VitTiny or BackboneKind.VitSmall => new VisionTransformer(spec.Kind, spec.PatchSize, spec.ImageSize),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, $"Backbone '{spec.Kind}' is not known."),
        };
        if (spec.Normalization == InputNormalization.BgrMeanImage) module.UseBgrMeanImage();
        else if (spec.Normalization != InputNormalization.ImageNet)
            throw new ArgumentOutOfRangeException(nameof(spec), spec.Normalization, $"Input normalisation '{spec.Normalization}' is not known.");
        return module;
    }
}
