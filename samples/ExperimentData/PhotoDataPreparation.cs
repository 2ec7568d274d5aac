namespace SpatialPrediction.ML.ExperimentData;

/// <summary>
/// Prepares natural photographs for the spatial tests on real photos from two Debian packages: <c>python3-skimage</c>
/// (scikit-image's sample images) and <c>plasma-workspace-wallpapers</c> (KDE's wallpapers, of which the photographs are
/// picked by name; the rest are illustrations). <c>apt-get download</c> fetches each package without installing it,
/// <c>dpkg-deb -x</c> unpacks it into a cache folder, and the photographs (not synthetic fixtures such as checkerboards,
/// palettes or the deliberately truncated JPEG, not drawn wallpapers) are copied out with a <c>path,label</c> CSV and
/// each package's own notes on authors and licences.
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

    /// <summary>
    /// The KDE Plasma wallpapers that are photographs (looked at one by one: the others are drawings or renderings).
    /// Licences as their metadata states (LGPL-3.0).
    /// </summary>
    public static IReadOnlyList<string> WallpaperPhotographs { get; } = new[]
    {
        "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite",
        "OneStandsOut", "Path", "summer_1am",
    };

    private const string DataFolder = "usr/lib/python3/dist-packages/skimage/data";
    private const string WallpaperFolder = "usr/share/wallpapers";

    /// <summary>Fetches and unpacks both packages (cached in <paramref name="cacheFolder"/>) and prepares the photos.</summary>
    public static string Prepare(string cacheFolder, string outputFolder)
        => PrepareFromExtracted(DebianPackage.Unpacked("python3-skimage", DataFolder, cacheFolder), outputFolder,
            DebianPackage.Unpacked("plasma-workspace-wallpapers", WallpaperFolder, cacheFolder));

    /// <summary>
    /// Copies the photographs out of an unpacked <c>python3-skimage</c> and, when given, an unpacked
    /// <c>plasma-workspace-wallpapers</c>; returns the CSV written.
    /// </summary>
    public static string PrepareFromExtracted(string extractedPackage, string outputFolder, string? extractedWallpapers = null)
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
        string notes = Path.Combine(source, "README.txt");
        string attribution = "# scikit-image sample images (Debian package python3-skimage)\n\nNot redistributed with SpatialPrediction.ML. " +
                             "The package's own notes on each image's origin and licence follow.\n\n" +
                             (File.Exists(notes) ? File.ReadAllText(notes) : "(README.txt not found in the package)\n");
        if (extractedWallpapers is not null) attribution += "\n" + CopyWallpapers(extractedWallpapers, photos, lines);
        string csv = Path.Combine(outputFolder, "photos.csv");
        File.WriteAllLines(csv, lines);
        File.WriteAllText(Path.Combine(outputFolder, "ATTRIBUTION-photos.md"), attribution);
        return csv;
    }

    /// <summary>The smallest image of each photographic wallpaper, as <c>photos/kde-NAME.EXT</c>; returns their attribution.</summary>
    private static string CopyWallpapers(string extracted, string photos, List<string> lines)
    {
        string source = Path.Combine(extracted, WallpaperFolder);
        if (!Directory.Exists(source))
            throw new DirectoryNotFoundException($"{source} does not exist: is {extracted} an unpacked plasma-workspace-wallpapers package?");
        var attribution = new System.Text.StringBuilder("# KDE Plasma wallpapers that are photographs (Debian package plasma-workspace-wallpapers)\n\n" +
                                                        "Not redistributed with SpatialPrediction.ML. Name, author and licence from each wallpaper's metadata.json.\n\n");
        int copied = 0;
        foreach (var name in WallpaperPhotographs)
        {
            string images = Path.Combine(source, name, "contents", "images");
            if (!Directory.Exists(images)) continue;
            // Files are named WIDTHxHEIGHT.jpg; the smallest is plenty for 32–64 px patches.
            var smallest = Directory.EnumerateFiles(images)
                .Select(f => (Path: f, Size: Path.GetFileNameWithoutExtension(f).Split('x')))
                .Where(f => f.Size.Length == 2 && long.TryParse(f.Size[0], out _) && long.TryParse(f.Size[1], out _))
                .OrderBy(f => long.Parse(f.Size[0]) * long.Parse(f.Size[1])).Select(f => f.Path).FirstOrDefault();
            if (smallest is null) continue;
            string target = $"kde-{name}{Path.GetExtension(smallest)}";
            File.Copy(smallest, Path.Combine(photos, target), overwrite: true);
            lines.Add($"photos/{target},{name}");
            copied++;
            attribution.Append($"- {name}: {Metadata(Path.Combine(source, name, "metadata.json"))}\n");
        }
        if (copied == 0) throw new InvalidDataException($"None of the expected wallpaper photographs is in {source}.");
        return attribution.ToString();
    }

    /// <summary>"author (email), licence" from a KDE wallpaper's metadata.json, or a note that it is missing.</summary>
    private static string Metadata(string path)
    {
        if (!File.Exists(path)) return "(no metadata.json)";
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        var plugin = json.RootElement.TryGetProperty("KPlugin", out var k) ? k : json.RootElement;
        string authors = plugin.TryGetProperty("Authors", out var a) && a.ValueKind == System.Text.Json.JsonValueKind.Array
            ? string.Join(", ", a.EnumerateArray().Select(x => x.TryGetProperty("Name", out var n) ? n.GetString() : null).Where(n => n is not null))
            : "author not stated";
        string licence = plugin.TryGetProperty("License", out var l) ? l.GetString() ?? "" : "licence not stated";
        return $"{authors}; licence {licence}";
    }
}
