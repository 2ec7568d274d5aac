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
