using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>Pre-norm transformer block: x + Attention(LN(x)), then x + MLP(LN(x)) with a 4× GELU MLP.</summary>
internal sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1, norm2;
    private readonly SelfAttention attention;
    private readonly Sequential mlp;

    /// <summary>Creates a block of width <paramref name="dimension"/>.</summary>
    public TransformerBlock(int dimension, int heads, int mlpRatio = 4) : base(nameof(TransformerBlock))
    {
        norm1 = nn.LayerNorm(dimension, eps: 1e-6);
        attention = new SelfAttention(dimension, heads);
        norm2 = nn.LayerNorm(dimension, eps: 1e-6);
        mlp = nn.Sequential(nn.Linear(dimension, mlpRatio * dimension), nn.GELU(), nn.Linear(mlpRatio * dimension, dimension));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor tokens)
    {
        var x = tokens + attention.forward(norm1.forward(tokens));
        return x + mlp.forward(norm2.forward(x));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            norm1.Dispose(); norm2.Dispose(); attention.Dispose(); mlp.Dispose();
        }
        base.Dispose(disposing);
    }
}
