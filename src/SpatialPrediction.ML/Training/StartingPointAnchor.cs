using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// L2-SP (Li, Grandvalet and Davoine, ICML 2018) for continued pretraining: the penalty α/2·‖w − w₀‖² on the backbone
/// weights that train, w₀ being the weights training started from, so the run looks for better features near the
/// pretrained ones instead of drifting from them. It is applied as its gradient α·(w − w₀), added to the terms'
/// gradients before clipping, on the float32 weights the optimiser updates — a bfloat16 working copy could not resolve
/// the small differences it acts on.
/// </summary>
internal sealed class StartingPointAnchor : IDisposable
{
    private readonly (Parameter Weight, Tensor Start)[] anchored;
    private readonly double strength;

    /// <summary>Remembers the current values of <paramref name="weights"/> as the starting point; α = <paramref name="strength"/>.</summary>
    public StartingPointAnchor(IEnumerable<Parameter> weights, double strength)
    {
        if (!(strength > 0) || !double.IsFinite(strength))
            throw new ArgumentOutOfRangeException(nameof(strength), strength, "The anchor's strength must be a positive finite number.");
        this.strength = strength;
        using var _ = no_grad();
        anchored = weights.Select(w => (w, w.detach().clone().DetachFromDisposeScope())).ToArray();
    }

    /// <summary>Adds α·(w − w₀) to every anchored weight's gradient (creating it where a weight has none).</summary>
    public void AddGradient()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (weight, start) in anchored)
        {
            var pull = (weight.detach() - start).mul_(strength);
            if (weight.grad is { } gradient) gradient.add_(pull);
            else weight.grad = pull.DetachFromDisposeScope();
        }
    }

    /// <summary>‖w − w₀‖ over all anchored weights: how far training has moved them.</summary>
    public double Distance()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        double squares = 0;
        foreach (var (weight, start) in anchored)
            squares += (weight.detach() - start).square().sum().item<float>();
        return Math.Sqrt(squares);
    }

    /// <summary>Releases the copies of the starting weights.</summary>
    public void Dispose()
    {
        foreach (var (_, start) in anchored) start.Dispose();
    }
}
