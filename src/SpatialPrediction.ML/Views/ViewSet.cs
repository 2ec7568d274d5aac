using static TorchSharp.torch;

namespace SpatialPrediction.ML.Views;

/// <summary>
/// The views an objective made of one batch, ready for the model. Views are made on the loader thread and consumed on
/// the training thread, so they live outside any dispose scope: whoever consumes the set disposes it.
/// </summary>
internal sealed class ViewSet : IDisposable
{
    /// <summary>Wraps views, optional targets and, when the maker records it, where each view was cut.</summary>
    public ViewSet(IReadOnlyList<Tensor> views, Tensor? targets = null, IReadOnlyList<ViewGeometry>? geometry = null)
    {
        Views = views;
        Targets = targets;
        Geometry = geometry;
    }

    /// <summary>An empty set: a term that trains on another term's views makes none of its own.</summary>
    public static ViewSet None() => new(Array.Empty<Tensor>());

    /// <summary>The views, each [B, 3, s, s]; their order is the objective's own convention.</summary>
    public IReadOnlyList<Tensor> Views { get; }
    /// <summary>Regression targets, when the objective has them (SP).</summary>
    public Tensor? Targets { get; }
    /// <summary>Per view, the boxes its crops were cut from and which were mirrored; null when not recorded.</summary>
    public IReadOnlyList<ViewGeometry>? Geometry { get; }

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
