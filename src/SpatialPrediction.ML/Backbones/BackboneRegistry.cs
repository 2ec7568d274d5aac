namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// What one backbone kind is and what it supports, declared once: how to build it, its ResNet stages, and which of the
/// library's paths take it (channels-last on the CPU, small maps as matrix products, TorchVision's weight names).
/// </summary>
/// <param name="Kind">The architecture.</param>
/// <param name="Create">Builds a freshly initialised module for a spec of this kind.</param>
/// <param name="StageBlocks">Blocks per stage of a ResNet (the ONNX exporter and the TorchVision names walk them); null for the ViTs.</param>
/// <param name="Bottlenecks">Whether the ResNet's blocks are bottlenecks (1×1, 3×3, 1×1) rather than basic blocks.</param>
/// <param name="ChannelsLast">Whether it can run channels-last on the CPU (<see cref="BackboneModule.Layout"/>).</param>
/// <param name="SmallMapsAsMatrices">Whether its basic blocks can convolve small maps as matrix products (<see cref="SmallMapConvolution"/>).</param>
/// <param name="TorchvisionNames">Whether its weights can be written under TorchVision's names (torchvision.models has the same network).</param>
internal sealed record BackboneDeclaration(BackboneKind Kind, Func<BackboneSpec, BackboneModule> Create, IReadOnlyList<int>? StageBlocks = null,
    bool Bottlenecks = false, bool ChannelsLast = false, bool SmallMapsAsMatrices = false, bool TorchvisionNames = false);

/// <summary>
/// The backbones by kind. Adding one: its module in its own file, its value in <see cref="BackboneKind"/>, and one
/// declaration here; saving, loading, model zips, featurisation and the evaluations need nothing more.
/// </summary>
internal static class BackboneRegistry
{
    private static readonly Dictionary<BackboneKind, BackboneDeclaration> Declarations = new[]
    {
        new BackboneDeclaration(BackboneKind.SmallResNet, spec => new SmallResNet(spec.Width), StageBlocks: new[] { 1, 1, 1, 1 }),
        new BackboneDeclaration(BackboneKind.ResNet18, spec => new ResNet(spec.Kind), StageBlocks: new[] { 2, 2, 2, 2 },
            ChannelsLast: true, SmallMapsAsMatrices: true, TorchvisionNames: true),
        // ML.NET's ImageNet ResNet-18 (CNTK): a third block in the last stage and a mean-image input, which TorchVision's resnet18 lacks.
        new BackboneDeclaration(BackboneKind.CntkResNet18, spec => new ResNet(spec.Kind), StageBlocks: new[] { 2, 2, 2, 3 },
            ChannelsLast: true, SmallMapsAsMatrices: true),
        new BackboneDeclaration(BackboneKind.ResNet50, spec => new ResNet(spec.Kind), StageBlocks: new[] { 3, 4, 6, 3 }, Bottlenecks: true,
            ChannelsLast: true, TorchvisionNames: true),
        new BackboneDeclaration(BackboneKind.VitTiny, spec => new VisionTransformer(spec.Kind, spec.PatchSize, spec.ImageSize)),
        new BackboneDeclaration(BackboneKind.VitSmall, spec => new VisionTransformer(spec.Kind, spec.PatchSize, spec.ImageSize)),
    }.ToDictionary(d => d.Kind);

    /// <summary>The declaration of <paramref name="kind"/>.</summary>
    public static BackboneDeclaration For(BackboneKind kind)
        => Declarations.TryGetValue(kind, out var declaration)
            ? declaration
            : throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Backbone '{kind}' is not known; known: {string.Join(", ", Declarations.Keys)}.");
}
