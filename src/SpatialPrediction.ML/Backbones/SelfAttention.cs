using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>Multi-head self-attention over a token sequence [B, N, D].</summary>
internal sealed class SelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear qkv, projection;
    private readonly int heads;
    private readonly double scale;

    /// <summary>Creates attention of width <paramref name="dimension"/> split into <paramref name="heads"/> heads.</summary>
    public SelfAttention(int dimension, int heads) : base(nameof(SelfAttention))
    {
        if (dimension % heads != 0) throw new ArgumentException($"Width {dimension} is not divisible by {heads} heads.");
        this.heads = heads;
        scale = 1.0 / Math.Sqrt(dimension / heads);
        qkv = nn.Linear(dimension, 3 * dimension);
        projection = nn.Linear(dimension, dimension);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor tokens)
    {
        long batch = tokens.shape[0], count = tokens.shape[1], width = tokens.shape[2];
        var parts = qkv.forward(tokens).reshape(batch, count, 3, heads, width / heads).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (parts[0], parts[1], parts[2]);
        var attention = (q.matmul(k.transpose(-2, -1)) * scale).softmax(-1);
        var mixed = attention.matmul(v).transpose(1, 2).reshape(batch, count, width);
        return projection.forward(mixed);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            qkv.Dispose();
            projection.Dispose();
        }
        base.Dispose(disposing);
    }
}
