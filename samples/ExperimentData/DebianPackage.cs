using System.Diagnostics;

namespace SpatialPrediction.ML.ExperimentData;

/// <summary>
/// A Debian package's files without installing it: <c>apt-get download</c> into a cache folder, <c>dpkg-deb -x</c> next
/// to it; both only once.
/// </summary>
internal static class DebianPackage
{
    /// <summary>The folder <paramref name="package"/> is unpacked in (fetched and unpacked if <paramref name="inner"/> is not there yet).</summary>
    public static string Unpacked(string package, string inner, string cacheFolder)
    {
        Directory.CreateDirectory(cacheFolder);
        string extracted = Path.Combine(cacheFolder, package);
        if (Directory.Exists(Path.Combine(extracted, inner))) return extracted;
        if (!Directory.EnumerateFiles(cacheFolder, $"{package}_*.deb").Any())
            Run("apt-get", $"download {package}", cacheFolder, "run 'apt-get update' first, or install apt");
        string deb = Directory.EnumerateFiles(cacheFolder, $"{package}_*.deb").OrderBy(f => f, StringComparer.Ordinal).Last();
        Run("dpkg-deb", $"-x \"{deb}\" \"{extracted}\"", cacheFolder, "dpkg-deb comes with Debian and Ubuntu");
        return extracted;
    }

    private static void Run(string program, string arguments, string folder, string hint)
    {
        var start = new ProcessStartInfo(program, arguments) { WorkingDirectory = folder, RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program} ({hint}).");
        string error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {arguments} failed (exit {process.ExitCode}; {hint}): {error.Trim()}");
    }
}
