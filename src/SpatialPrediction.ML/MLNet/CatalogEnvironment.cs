using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace SpatialPrediction.ML.MLNet;

/// <summary>The ML.NET environment behind a catalog: its device settings, its log and its cancellation.</summary>
/// <param name="Environment">The host environment (an <see cref="MLContext"/>'s own).</param>
internal sealed record CatalogEnvironment(IHostEnvironment Environment)
{
    /// <summary>The environment of a catalog (ML.NET keeps it internal; see MLNetInternals.cs).</summary>
    public static CatalogEnvironment Find(TransformsCatalog catalog) => new(((IInternalCatalog)catalog).Environment);

    /// <summary>ML.NET's <c>MLContext.GpuDeviceId</c>.</summary>
    public int? GpuDeviceId => (Environment as IHostEnvironmentInternal)?.GpuDeviceId;

    /// <summary>ML.NET's <c>MLContext.FallbackToCpu</c>.</summary>
    public bool FallbackToCpu => (Environment as IHostEnvironmentInternal)?.FallbackToCpu ?? false;

    /// <summary>A warning from <paramref name="component"/> to <c>MLContext.Log</c>.</summary>
    public void Warn(string component, string message)
    {
        using var channel = Environment.Register(component).Start(component);
        channel.Warning(MessageSensitivity.None, message);
    }

    /// <summary>
    /// Registers a component host for one training run: messages go to <c>MLContext.Log</c>, and
    /// <c>MLContext.CancelExecution()</c> (which ML.NET propagates to its hosts) reads as cancellation.
    /// </summary>
    public (Action<string> Log, Func<bool> IsCanceled, IChannel Channel) StartRun(string component)
    {
        var host = Environment.Register(component);
        var channel = host.Start("Pretraining");
        return (message => channel.Info(MessageSensitivity.None, message), () => host is ICancelable { IsCanceled: true }, channel);
    }
}
