using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// Vision Transformer (Dosovitskiy et al., 2021) as used by DINO and MoCo v3: a convolutional patch embedding, a CLS
/// token, learned position embeddings, pre-norm blocks and a final LayerNorm. The embedding is the CLS token; the
/// patch tokens form the dense feature map. Position embeddings are learned for <c>imageSize</c> and interpolated for
/// other sizes (SP's local views, DINO's local crops).
/// </summary>
internal sealed class VisionTransformer : BackboneModule
{
    private readonly Conv2d patchEmbedding;
    private readonly Parameter classToken, positions;
    private readonly Sequential blocks;
    private readonly LayerNorm norm;
    private readonly BackboneKind kind;
    private readonly int dimension, patchSize, gridSize;

    /// <summary>Creates ViT-Tiny or ViT-Small for square inputs of <paramref name="imageSize"/> pixels.</summary>
    public VisionTransformer(BackboneKind kind, int patchSize, int imageSize) : base(kind.ToString())
    {
        (dimension, int depth, int heads) = kind switch
        {
            BackboneKind.VitTiny => (192, 12, 3),
            BackboneKind.VitSmall => (384, 12, 6),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "VisionTransformer supports VitTiny and VitSmall."),
        };
        if (patchSize < 2) throw new ArgumentOutOfRangeException(nameof(patchSize), patchSize, "Patch size must be at least 2.");
        if (imageSize % patchSize != 0)
            throw new ArgumentException($"ImageSize {imageSize} is not a multiple of PatchSize {patchSize}: ViT inputs must be whole patches.", nameof(imageSize));
        this.kind = kind;
        this.patchSize = patchSize;
        gridSize = imageSize / patchSize;
        patchEmbedding = nn.Conv2d(3, dimension, patchSize, stride: patchSize);
        classToken = new Parameter(randn(1, 1, dimension) * 0.02f);
        positions = new Parameter(randn(1, 1 + gridSize * gridSize, dimension) * 0.02f);
        blocks = nn.Sequential(Enumerable.Range(0, depth).Select(_ => (nn.Module<Tensor, Tensor>)new TransformerBlock(dimension, heads)));
        norm = nn.LayerNorm(dimension, eps: 1e-6);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int FeatureDimension => dimension;
    /// <inheritdoc />
    public override int MinInputSize => patchSize;
    /// <inheritdoc />
    public override int MaxInputSize => 1024;
    /// <inheritdoc />
    public override int InputSizeMultiple => patchSize;
    /// <inheritdoc />
    public override BackboneKind Kind => kind;
    /// <summary>Side of a patch in pixels.</summary>
    public int PatchSize => patchSize;

    /// <summary>All output tokens [B, 1 + h·w, D] after the final norm; token 0 is CLS.</summary>
    public Tensor Tokens(Tensor images)
    {
        if (images.shape[2] % patchSize != 0 || images.shape[3] % patchSize != 0)
            throw new ArgumentException($"Input {images.shape[3]}×{images.shape[2]} is not a multiple of the patch size {patchSize}.");
        var patches = patchEmbedding.forward(Normalize(images));           // [B, D, h, w]
        long h = patches.shape[2], w = patches.shape[3], batch = patches.shape[0];
        var tokens = patches.flatten(2).transpose(1, 2);                    // [B, h·w, D]
        tokens = cat(new[] { classToken.expand(batch, -1, -1), tokens }, 1) + PositionsFor(h, w);
        return norm.forward(blocks.forward(tokens));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor images) => Tokens(images)[.., 0];

    /// <inheritdoc />
    public override Tensor FeatureMap(Tensor images) => PooledAndMap(images).Map;

    /// <inheritdoc />
    public override (Tensor Pooled, Tensor Map) PooledAndMap(Tensor images)
    {
        var tokens = Tokens(images);
        long batch = images.shape[0], h = images.shape[2] / patchSize, w = images.shape[3] / patchSize;
        return (tokens[.., 0], tokens[.., 1..].transpose(1, 2).reshape(batch, dimension, h, w));
    }

    private Tensor PositionsFor(long h, long w)
    {
        if (h == gridSize && w == gridSize) return positions;
        var grid = positions[.., 1..].reshape(1, gridSize, gridSize, dimension).permute(0, 3, 1, 2);
        var resized = nn.functional.interpolate(grid, new long[] { h, w }, mode: InterpolationMode.Bicubic, align_corners: false);
        return cat(new[] { positions[.., ..1], resized.permute(0, 2, 3, 1).reshape(1, h * w, dimension) }, 1);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            patchEmbedding.Dispose(); classToken.Dispose(); positions.Dispose(); blocks.Dispose(); norm.Dispose();
        }
        base.Dispose(disposing);
    }
}
