using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// Tells apart how much of a step's backbone gradient each loss term contributed: the accumulated gradient is read
/// after the host's backward and after SP's, and the differences are summed over micro-batches. Its tensors live in the
/// step's dispose scope; costs three flat copies of the backbone's gradient per micro-batch.
/// </summary>
internal sealed class GradientNorms(IReadOnlyList<Parameter> backboneParameters)
{
    private Tensor? before, host, spatial;

    /// <summary>Call after zero_grad.</summary>
    public void StartStep()
    {
        before = null;
        host = null;
        spatial = null;
    }

    /// <summary>Call after the host term's backward.</summary>
    public void AfterHost() => host = Accumulate(host);

    /// <summary>Call after SP's backward.</summary>
    public void AfterSpatial() => spatial = Accumulate(spatial);

    /// <summary>Adds what the last backward added to the gradient to <paramref name="sum"/>.</summary>
    private Tensor Accumulate(Tensor? sum)
    {
        // Each new tensor is moved to the step's scope exactly once: moving one twice would lift it out of every scope.
        var now = Keep(Flat());
        var part = before is null ? now : Keep(now - before);
        before = now;
        return sum is null ? part : Keep(sum + part);
    }

    /// <summary>The micro-batch's own dispose scope ends before the step does; these sums belong to the step's.</summary>
    private static Tensor Keep(Tensor tensor) => tensor.MoveToOuterDisposeScope();

    /// <summary>‖∇host‖ and ‖∇λ·SP‖ at the backbone for the step; NaN for a term that is not trained.</summary>
    public (float Host, float Spatial) EndStep(bool hasHost, bool hasSpatial)
        => (hasHost && host is not null ? host.norm().item<float>() : float.NaN,
            hasSpatial && spatial is not null ? spatial.norm().item<float>() : float.NaN);

    /// <summary>L2 norm of the gradients of <paramref name="parameters"/> (those without a gradient count as 0).</summary>
    public static float Norm(IEnumerable<Parameter> parameters)
    {
        using var scope = NewDisposeScope();
        var norms = parameters.Select(p => p.grad).OfType<Tensor>().Select(g => g.norm()).ToList();
        // One read back from the device for all of them, not one per parameter.
        return norms.Count == 0 ? 0f : stack(norms).norm().item<float>();
    }

    private Tensor Flat()
        => cat(backboneParameters.Select(p => p.grad is { } g ? g.flatten() : zeros(p.numel(), device: p.device)).ToList(), 0);
}
