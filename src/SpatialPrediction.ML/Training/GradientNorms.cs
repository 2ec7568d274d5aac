using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// Tells apart how much of a step's backbone gradient each training term contributed: the accumulated gradient is read
/// after each term's backward and the differences are summed over micro-batches. Its tensors live in the step's
/// dispose scope; costs one flat copy of the backbone's gradient per term and micro-batch, plus the sums.
/// </summary>
internal sealed class GradientNorms(IReadOnlyList<Parameter> backboneParameters, int termCount)
{
    private Tensor? before;
    private readonly Tensor?[] sums = new Tensor?[termCount];

    /// <summary>Call after zero_grad.</summary>
    public void StartStep()
    {
        before = null;
        Array.Clear(sums);
    }

    /// <summary>Call after term <paramref name="term"/>'s backward.</summary>
    public void AfterTerm(int term) => sums[term] = Accumulate(sums[term]);

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

    /// <summary>‖∇ weight·term‖ at the backbone for the step, per term; NaN for a term that sent none.</summary>
    public float[] EndStep() => sums.Select(s => s is null ? float.NaN : s.norm().item<float>()).ToArray();

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
