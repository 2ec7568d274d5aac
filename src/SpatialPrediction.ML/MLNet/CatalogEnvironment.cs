using System.Reflection;
using Microsoft.ML;

namespace SpatialPrediction.ML.MLNet;

/// <summary>
/// Finds the <see cref="MLContext"/> behind a catalog, for its device settings (<c>GpuDeviceId</c>,
/// <c>FallbackToCpu</c>) and its log. ML.NET keeps the catalog's environment internal; this is its one reflective
/// read, and it degrades to "no context" (CPU, no log) instead of failing.
/// </summary>
internal static class CatalogEnvironment
{
    public static MLContext? Find(object catalog)
    {
        for (var type = catalog.GetType(); type is not null; type = type.BaseType)
        {
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public))
            {
                if (field.GetValue(catalog) is MLContext context) return context;
            }
        }
        return null;
    }
}
