namespace SpatialPrediction.ML.ExperimentData;

/// <summary>
/// Icons of the Papirus theme (GPL-3.0) from Debian's <c>papirus-icon-theme</c>, classified by the folder the theme
/// files them under (apps, devices, mimetypes, places): the 64 px designs rasterised to PNG, at most
/// <c>perClass</c> distinct drawings a class (symbolic links, which repeat a drawing under another name, are left out),
/// one in five held out as the test split by a hash of the name. The style shift: the same icons as the theme draws
/// them for 16 px (simplified drawings), rasterised at the same size, for every icon that has one.
/// </summary>
public static class IconThemePreparation
{
    /// <summary>The theme's folders used as classes.</summary>
    public static IReadOnlyList<string> Classes { get; } = new[] { "apps", "devices", "mimetypes", "places" };

    private const string ThemeFolder = "usr/share/icons/Papirus";

    /// <summary>Fetches and unpacks the package (cached in <paramref name="cacheFolder"/>) and prepares the icons; returns the CSVs written.</summary>
    public static IReadOnlyList<string> Prepare(string cacheFolder, string outputFolder, int perClass = 400, int side = 64)
        => PrepareFromTheme(Path.Combine(DebianPackage.Unpacked("papirus-icon-theme", ThemeFolder, cacheFolder), ThemeFolder), outputFolder, perClass, side);

    /// <summary>Prepares the icons from an unpacked theme folder (holding <c>64x64/</c> and <c>16x16/</c>).</summary>
    public static IReadOnlyList<string> PrepareFromTheme(string theme, string outputFolder, int perClass = 400, int side = 64)
    {
        if (!Directory.Exists(Path.Combine(theme, "64x64")))
            throw new DirectoryNotFoundException($"{theme}/64x64 does not exist: is {theme} the Papirus folder of an unpacked papirus-icon-theme package?");
        string root = Path.Combine(outputFolder, "icons");
        var rows = new Dictionary<string, List<string>>
        {
            ["icons-train.csv"] = new() { "path,label" }, ["icons-test.csv"] = new() { "path,label" },
            ["icons-shift-small-train.csv"] = new() { "path,label" }, ["icons-shift-small-test.csv"] = new() { "path,label" },
        };
        foreach (string label in Classes)
        {
            string folder = Path.Combine(theme, "64x64", label);
            if (!Directory.Exists(folder)) continue;
            // Drawings, not aliases; a fixed pseudo-random order by name, so the cap takes the same icons on every machine.
            var icons = Directory.EnumerateFiles(folder, "*.svg")
                .Where(f => !new FileInfo(f).Attributes.HasFlag(FileAttributes.ReparsePoint))
                .OrderBy(f => StableHash.Of(Path.GetFileNameWithoutExtension(f))).ThenBy(f => f, StringComparer.Ordinal).Take(perClass);
            foreach (string icon in icons)
            {
                string name = Path.GetFileNameWithoutExtension(icon);
                string split = PreparedSet.IsTest(name) ? "test" : "train";
                if (!SvgRasterizer.TryRenderFile(icon, Path.Combine(root, "64", label, name + ".png"), side)) continue;
                rows[$"icons-{split}.csv"].Add($"64/{label}/{name}.png,{label}");
                string small = Path.Combine(theme, "16x16", label, name + ".svg");
                if (File.Exists(small) && SvgRasterizer.TryRenderFile(small, Path.Combine(root, "16", label, name + ".png"), side))
                    rows[$"icons-shift-small-{split}.csv"].Add($"16/{label}/{name}.png,{label}");
            }
        }
        if (rows["icons-train.csv"].Count == 1) throw new InvalidDataException($"No icons found under {theme}/64x64 in {string.Join(", ", Classes)}.");
        return PreparedSet.Write(root, rows, "icons",
            "# Papirus icon theme (Debian package papirus-icon-theme)\n\nNot redistributed with SpatialPrediction.ML. " +
            "Papirus Development Team, GPL-3.0; see /usr/share/doc/papirus-icon-theme/copyright in the package.\n");
    }
}
