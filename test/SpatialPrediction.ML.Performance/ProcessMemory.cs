namespace SpatialPrediction.ML.Performance;

/// <summary>Resident memory of this process as the kernel reports it (native libtorch memory included, unlike the GC's view).</summary>
internal static class ProcessMemory
{
    /// <summary>Current resident set size in MB (VmRSS).</summary>
    public static double ResidentMegabytes() => Read("VmRSS:");

    /// <summary>Peak resident set size in MB since the process started (VmHWM).</summary>
    public static double PeakResidentMegabytes() => Read("VmHWM:");

    private static double Read(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line[field.Length..].Trim().Split(' ')[0]) / 1024.0;
        }
        throw new InvalidOperationException($"/proc/self/status has no {field} line (this benchmark reads Linux memory counters).");
    }
}
