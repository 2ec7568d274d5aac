using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// Tells apart how much of a step's backbone gradient each training term contributed. Each term accumulates into its
/// own gradient tensors: before a term's backward the backbone parameters are handed that term's tensors (none on its
/// first micro-batch, so autograd adopts the incoming gradient without a copy), after it they are taken back. At the
/// end of the step every term's norm is read and the parameters get the sum, added into the first term's tensors —
/// with one term there is nothing to add and nothing is copied.
/// </summary>
internal sealed class GradientNorms(IReadOnlyList<Parameter> backboneParameters, int termCount)
{
    // Per term, per backbone parameter: the term's gradient so far (detached from every dispose scope; owned here).
    private readonly Tensor?[][] termGradients = Enumerable.Range(0, termCount).Select(_ => new Tensor?[backboneParameters.Count]).ToArray();

    /// <summary>Call after zero_grad.</summary>
    public void StartStep() => Clear();

    /// <summary>Call before term <paramref name="term"/>'s backward: its gradient so far becomes the parameters'.</summary>
    public void BeforeTerm(int term)
    {
        if (termCount == 1) return;
        for (int p = 0; p < backboneParameters.Count; p++) backboneParameters[p].grad = termGradients[term][p];
    }

    /// <summary>Call after term <paramref name="term"/>'s backward: the parameters' gradient is the term's again.</summary>
    public void AfterTerm(int term)
    {
        if (termCount == 1) return;
        for (int p = 0; p < backboneParameters.Count; p++)
        {
            termGradients[term][p]?.Dispose();
            termGradients[term][p] = backboneParameters[p].grad?.DetachFromDisposeScope();
        }
    }

    /// <summary>
    /// ‖∇ weight·term‖ at the backbone for the step, per term (0 for a term whose graph does not reach it); leaves the parameters
    /// holding the sum of the terms' gradients.
    /// </summary>
    public float[] EndStep()
    {
        if (termCount == 1) return new[] { Norm(backboneParameters) };
        var norms = termGradients.Select(Norm).ToArray();
        using (no_grad())
        {
            for (int p = 0; p < backboneParameters.Count; p++)
            {
                Tensor? sum = null;
                foreach (var gradients in termGradients)
                {
                    if (gradients[p] is not { } g) continue;
                    if (sum is null) sum = g;
                    else sum.add_(g);
                }
                backboneParameters[p].grad = sum;
            }
        }
        Clear();
        return norms;
    }

    private void Clear()
    {
        foreach (var gradients in termGradients)
            for (int p = 0; p < gradients.Length; p++)
            {
                gradients[p]?.Dispose();
                gradients[p] = null;
            }
    }

    private static float Norm(Tensor?[] gradients)
    {
        using var scope = NewDisposeScope();
        // One read back from the device for all of them, not one per parameter.
        var norms = gradients.OfType<Tensor>().Select(g => g.norm()).ToList();
        return norms.Count == 0 ? 0f : stack(norms).norm().item<float>();
    }

    /// <summary>L2 norm of the gradients of <paramref name="parameters"/> (those without a gradient count as 0).</summary>
    public static float Norm(IEnumerable<Parameter> parameters)
    {
        using var scope = NewDisposeScope();
        return Norm(parameters.Select(p => p.grad).ToArray());
    }
}
