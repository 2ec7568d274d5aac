using static TorchSharp.torch;

namespace SpatialPrediction.ML.Views;

/// <summary>
/// The views an objective made of one batch, ready for the model. Views are made on the loader thread and consumed on
/// the training thread, so they live outside any dispose scope: whoever consumes the set disposes it.
/// </summary>
internal sealed class ViewSet : IDisposable
{
    /// <summary>Wraps views and optional per-view targets.</summary>
    public ViewSet(IReadOnlyList<Tensor> views, Tensor? targets = null)
    {
        Views = views;
        Targets = targets;
    }

    /// <summary>The views, each [B, 3, s, s]; their order is the objective's own convention.</summary>
    public IReadOnlyList<Tensor> Views { get; }
    /// <summary>Regression targets, when the objective has them (SP).</summary>
    public Tensor? Targets { get; }

    /// <summary>Detaches the tensors from the current dispose scope so they can cross threads.</summary>
    public ViewSet Detach()
    {
        foreach (var view in Views) view.DetachFromDisposeScope();
        Targets?.DetachFromDisposeScope();
        return this;
    }

    /// <summary>Releases the tensors.</summary>
    public void Dispose()
    {
        foreach (var view in Views) view.Dispose();
        Targets?.Dispose();
    }
}
