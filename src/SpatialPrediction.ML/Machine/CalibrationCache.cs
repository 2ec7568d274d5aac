using System.Text.Json;

namespace SpatialPrediction.ML.Machine;

/// <summary>
/// Calibration results kept in the user cache ($XDG_CACHE_HOME/spatial-prediction/calibration, default ~/.cache/…) as
/// JSON, keyed by machine, library build and shape, so a machine measures each shape once per build and a resumed run
/// makes the same choice. Entries of other builds are dropped when the file is next written. A
/// damaged, unreadable or read-only cache only costs a new measurement. Every calibration goes through
/// <see cref="GetOrMeasure{T}"/>.
/// </summary>
internal static class CalibrationCache
{
    /// <summary>The cache folder.</summary>
    public static string DefaultFolder => Path.Combine(
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
        "spatial-prediction", "calibration");

    /// <summary>
    /// What tells machines apart in a key: the CPU (model, family, model number, stepping and flags; the architecture
    /// where there is no /proc/cpuinfo), cores, libtorch threads, whether oneDNN runs in its safe mode (other kernels,
    /// other timings) — and this build of the library
    /// (its module version id, which a deterministic build derives from the source), since a change to what runs
    /// (a kernel, the heap handling around it) can change which candidate wins, and an entry is otherwise never measured
    /// again.
    /// </summary>
    public static string MachineKey() => MachineKey(CpuDescription.Current);

    /// <summary>The same for the CPU <paramref name="cpu"/> describes (null: one without /proc/cpuinfo).</summary>
    public static string MachineKey(CpuDescription? cpu) => string.Join("|", cpu?.Identity ?? System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString(), Environment.ProcessorCount, TorchSharp.torch.get_num_threads(),
            Machine.OneDnnMode.Current.SafeMode ? "oneDNN safe mode" : "oneDNN", Build);

    private static readonly string Build = typeof(CalibrationCache).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..12];

    /// <summary>
    /// The entry under <paramref name="key"/> in <paramref name="fileName"/> of <paramref name="folder"/> (default
    /// <see cref="DefaultFolder"/>), or a new one from <paramref name="measure"/>, written back. The file is read again
    /// just before writing, so entries another process wrote while this one measured are kept.
    /// </summary>
    public static T GetOrMeasure<T>(string fileName, string key, string? folder, Func<T> measure, out bool cached)
    {
        string file = Path.Combine(folder ?? DefaultFolder, fileName);
        if (Read<T>(file).TryGetValue(key, out var known))
        {
            cached = true;
            return known;
        }
        var measured = measure();
        var cache = Read<T>(file);
        cache[key] = measured;
        Write(file, cache);
        cached = false;
        return measured;
    }

    public static Dictionary<string, T> Read<T>(string file)
    {
        try
        {
            return File.Exists(file) ? JsonSerializer.Deserialize<Dictionary<string, T>>(File.ReadAllText(file)) ?? new() : new();
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return new();
        }
    }

    public static void Write<T>(string file, Dictionary<string, T> cache)
    {
        try
        {
            foreach (var stale in cache.Keys.Where(k => !k.Contains($"|{Build}|", StringComparison.Ordinal)).ToList()) cache.Remove(stale);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            string temporary = file + $".{Environment.ProcessId}.tmp";
            File.WriteAllText(temporary, JsonSerializer.Serialize(cache, new JsonSerializerOptions { WriteIndented = true }));
            File.Move(temporary, file, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only home: the choice holds for this process and is measured again next time.
        }
    }
}
