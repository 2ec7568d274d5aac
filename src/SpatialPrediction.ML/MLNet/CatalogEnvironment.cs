using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace SpatialPrediction.ML.MLNet;

/// <summary>The ML.NET context settings a catalog carries that SP training honours.</summary>
/// <param name="GpuDeviceId">ML.NET's <c>MLContext.GpuDeviceId</c>.</param>
/// <param name="FallbackToCpu">ML.NET's <c>MLContext.FallbackToCpu</c>.</param>
/// <param name="Environment">The host environment, for logging; null when it could not be found.</param>
internal sealed record CatalogEnvironment(int? GpuDeviceId, bool FallbackToCpu, IHostEnvironment? Environment)
{
    /// <summary>
    /// Registers a component host under the environment and returns (log, isCanceled) for a training run: messages go to
    /// <c>MLContext.Log</c>, and <c>MLContext.CancelExecution()</c> is seen as cancellation (ML.NET propagates it to its
    /// hosts; the flag sits on an internal interface, read here reflectively). Without an environment both are null.
    /// </summary>
    public (Action<string>? Log, Func<bool>? IsCanceled, IDisposable? Channel) StartRun(string component)
    {
        if (Environment is null) return (null, null, null);
        var host = Environment.Register(component);
        var channel = host.Start("Pretraining");
        var cancelable = host.GetType().GetInterfaces().FirstOrDefault(i => i.Name == "ICancelable")?.GetProperty("IsCanceled");
        Func<bool>? isCanceled = cancelable is null ? null : () => cancelable.GetValue(host) is true;
        return (message => channel.Info(MessageSensitivity.None, message), isCanceled, channel);
    }

    /// <summary>
    /// Reads the settings behind a catalog. ML.NET keeps a catalog's environment (and the interface with the GPU
    /// settings) internal; MLContext's own properties forward to that environment, so reading them there gives the
    /// same values. This is the one reflective read; it degrades to CPU defaults rather than failing.
    /// </summary>
    public static CatalogEnvironment Find(object catalog)
    {
        IHostEnvironment? environment = null;
        for (var type = catalog.GetType(); type is not null && environment is null; type = type.BaseType)
        {
            environment = type.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
                .Select(f => f.GetValue(catalog)).OfType<IHostEnvironment>().FirstOrDefault();
        }
        if (environment is null) return new CatalogEnvironment(null, false, null);
        if (environment is MLContext context) return new CatalogEnvironment(context.GpuDeviceId, context.FallbackToCpu, context);

        int? gpu = null;
        bool fallback = false;
        foreach (var contract in environment.GetType().GetInterfaces().Where(i => i.Name == "IHostEnvironmentInternal"))
        {
            gpu = contract.GetProperty("GpuDeviceId")?.GetValue(environment) as int?;
            fallback = contract.GetProperty("FallbackToCpu")?.GetValue(environment) as bool? ?? false;
        }
        return new CatalogEnvironment(gpu, fallback, environment);
    }
}
