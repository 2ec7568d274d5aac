using System.Diagnostics;

namespace SpatialPrediction.ML.Data;

/// <summary>
/// Prepares natural photographs for the spatial tests on real photos from Debian's <c>python3-skimage</c> package
/// (scikit-image's sample images): <c>apt-get download</c> fetches the package without installing it,
/// <c>dpkg-deb -x</c> unpacks it into a cache folder, and the photographs (not the synthetic test fixtures such as
/// checkerboards, palettes or the deliberately truncated JPEG) are copied out with a <c>path,label</c> CSV and the
/// package's own notes on where each image comes from.
/// </summary>
public static class PhotoDataPreparation
{
    /// <summary>The scikit-image sample files that are photographs.</summary>
    public static IReadOnlyList<string> Photographs { get; } = new[]
    {
        "astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png", "grass.png", "gravel.png",
        "hubble_deep_field.jpg", "ihc.png", "moon.png", "motorcycle_left.png", "motorcycle_right.png", "page.png",
        "retina.jpg", "rocket.jpg",
    };

    private const string DataFolder = "usr/lib/python3/dist-packages/skimage/data";

    /// <summary>Fetches and unpacks the package (both cached in <paramref name="cacheFolder"/>) and prepares the photos.</summary>
    public static string Prepare(string cacheFolder, string outputFolder)
    {
        Directory.CreateDirectory(cacheFolder);
        string extracted = Path.Combine(cacheFolder, "python3-skimage");
        if (!Directory.Exists(Path.Combine(extracted, DataFolder)))
        {
            if (!Directory.EnumerateFiles(cacheFolder, "python3-skimage_*.deb").Any())
                Run("apt-get", "download python3-skimage", cacheFolder, "run 'apt-get update' first, or install apt");
            string deb = Directory.EnumerateFiles(cacheFolder, "python3-skimage_*.deb").OrderBy(f => f, StringComparer.Ordinal).Last();
            Run("dpkg-deb", $"-x \"{deb}\" \"{extracted}\"", cacheFolder, "dpkg-deb comes with Debian and Ubuntu");
        }
        return PrepareFromExtracted(extracted, outputFolder);
    }

    /// <summary>Copies the photographs out of an unpacked package; returns the CSV written.</summary>
    public static string PrepareFromExtracted(string extractedPackage, string outputFolder)
    {
        string source = Path.Combine(extractedPackage, DataFolder);
        if (!Directory.Exists(source))
            throw new DirectoryNotFoundException($"{source} does not exist: is {extractedPackage} an unpacked python3-skimage package?");
        string photos = Path.Combine(outputFolder, "photos");
        Directory.CreateDirectory(photos);
        var lines = new List<string> { "path,label" };
        foreach (var name in Photographs)
        {
            string from = Path.Combine(source, name);
            if (!File.Exists(from)) continue;
            File.Copy(from, Path.Combine(photos, name), overwrite: true);
            lines.Add($"photos/{name},{Path.GetFileNameWithoutExtension(name)}");
        }
        if (lines.Count == 1) throw new InvalidDataException($"None of the expected photographs is in {source}.");
        string csv = Path.Combine(outputFolder, "photos.csv");
        File.WriteAllLines(csv, lines);
        string notes = Path.Combine(source, "README.txt");
        File.WriteAllText(Path.Combine(outputFolder, "ATTRIBUTION-photos.md"),
            "# scikit-image sample images (Debian package python3-skimage)\n\nNot redistributed with SpatialPrediction.ML. " +
            "The package's own notes on each image's origin and licence follow.\n\n" + (File.Exists(notes) ? File.ReadAllText(notes) : "(README.txt not found in the package)\n"));
        return csv;
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
