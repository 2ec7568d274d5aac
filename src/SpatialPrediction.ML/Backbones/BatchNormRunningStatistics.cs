using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// Lets a training-mode forward normalise each batch with its own statistics without moving the running statistics
/// the frozen featuriser will apply: every batch norm's momentum is 0 while the returned scope is open.
/// </summary>
internal static class BatchNormRunningStatistics
{
    /// <summary>Pauses the running statistics of every batch norm in <paramref name="module"/> until the scope is disposed.</summary>
    public static IDisposable Paused(nn.Module module)
    {
        var norms = module.modules().OfType<BatchNorm>().ToList();
        var momenta = norms.Select(n => n.momentum).ToList();
        foreach (var norm in norms) norm.momentum = 0;
        return new Scope(norms, momenta);
    }

    private sealed class Scope(List<BatchNorm> norms, List<double?> momenta) : IDisposable
    {
        public void Dispose()
        {
            for (int i = 0; i < norms.Count; i++) norms[i].momentum = momenta[i];
        }
    }
}
