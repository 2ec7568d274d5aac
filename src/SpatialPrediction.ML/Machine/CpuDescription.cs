using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SpatialPrediction.ML.Machine;

/// <summary>
/// The first processor that /proc/cpuinfo describes: what tells one CPU from another when a choice depends on the
/// kernels it can run. A virtual machine's "model name" alone can hide the part ("AMD EPYC" names Zen 3 and Zen 5
/// alike), so family, model, stepping and the flags count too.
/// </summary>
internal sealed record CpuDescription(string Vendor, string ModelName, int Family, int Model, int Stepping, double Megahertz, IReadOnlySet<string> Flags)
{
    /// <summary>This machine's CPU; null where there is no /proc/cpuinfo (not Linux) or it cannot be read.</summary>
    public static CpuDescription? Current => current.Value;

    private static readonly Lazy<CpuDescription?> current = new(() =>
    {
        try
        {
            return File.Exists("/proc/cpuinfo") ? Parse(File.ReadAllText("/proc/cpuinfo")) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    });

    /// <summary>
    /// Reads the first processor's block. x86 lists its instruction-set extensions as "flags", ARM as "Features"; both
    /// land in <see cref="Flags"/>. Null when the text describes no processor.
    /// </summary>
    public static CpuDescription? Parse(string cpuinfo)
    {
        var fields = cpuinfo.Split('\n').SkipWhile(l => l.Trim().Length == 0).TakeWhile(l => l.Trim().Length > 0)
            .Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .GroupBy(p => p[0].Trim()).ToDictionary(g => g.Key, g => g.First()[1].Trim());
        if (fields.Count == 0) return null;
        string Field(string name) => fields.TryGetValue(name, out var value) ? value : "";
        int Number(string name) => int.TryParse(Field(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : 0;
        double.TryParse(Field("cpu MHz"), NumberStyles.Float, CultureInfo.InvariantCulture, out double mhz);
        var flags = (Field("flags") + " " + Field("Features")).Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        string model = Field("model name") is { Length: > 0 } name ? name : Field("CPU part");
        return new CpuDescription(Field("vendor_id") is { Length: > 0 } vendor ? vendor : Field("CPU implementer"), model,
            Number("cpu family"), Number("model"), Number("stepping"), mhz, flags);
    }

    /// <summary>
    /// One line that differs between parts whose kernels differ: the model name, family.model.stepping and a short hash
    /// of the flags (a hypervisor can hide AVX-512 from one guest and not from another of the same model).
    /// </summary>
    public string Identity => FormattableString.Invariant($"{ModelName} {Family}.{Model}.{Stepping} flags:{FlagsHash}");

    /// <summary>For people: the model name with the family and model numbers that say which microarchitecture it is.</summary>
    public override string ToString() => FormattableString.Invariant($"{ModelName}, family {Family} model {Model}");

    private string FlagsHash => Convert.ToHexString(SHA256.HashData(Encoding.ASCII.GetBytes(string.Join(" ", Flags.Order(StringComparer.Ordinal)))))[..8].ToLowerInvariant();
}
