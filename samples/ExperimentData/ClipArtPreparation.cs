namespace SpatialPrediction.ML.ExperimentData;

/// <summary>
/// Drawings of the Open Clip Art Library 0.18 (public domain) from Debian's <c>openclipart-svg</c>, classified by the
/// top-level folder the library files them under: eight folders of things (animals, buildings, food, office, people,
/// plants, tools, transportation), leaving out the abstract ones (shapes, signs and symbols, computer icons,
/// unsorted). At most <c>perClass</c> drawings a folder (subfolders included), taken in a fixed pseudo-random order by
/// name, rasterised to PNG; one in five held out as the test split by a hash of the name. No style shift.
/// </summary>
public static class ClipArtPreparation
{
    /// <summary>The library's folders used as classes.</summary>
    public static IReadOnlyList<string> Classes { get; } = new[] { "animals", "buildings", "food", "office", "people", "plants", "tools", "transportation" };

    private const string LibraryFolder = "usr/share/openclipart/svg";

    /// <summary>Fetches and unpacks the package (cached in <paramref name="cacheFolder"/>) and prepares the drawings; returns the CSVs written.</summary>
    public static IReadOnlyList<string> Prepare(string cacheFolder, string outputFolder, int perClass = 150, int side = 128)
        => PrepareFromLibrary(Path.Combine(DebianPackage.Unpacked("openclipart-svg", LibraryFolder, cacheFolder), LibraryFolder), outputFolder, perClass, side);

    /// <summary>Prepares the drawings from an unpacked library folder (holding one folder per class).</summary>
    public static IReadOnlyList<string> PrepareFromLibrary(string library, string outputFolder, int perClass = 150, int side = 128)
    {
        if (!Classes.Any(c => Directory.Exists(Path.Combine(library, c))))
            throw new DirectoryNotFoundException($"{library} holds none of the folders {string.Join(", ", Classes)}: is it the svg folder of an unpacked openclipart-svg package?");
        string root = Path.Combine(outputFolder, "clipart");
        var rows = new Dictionary<string, List<string>> { ["clipart-train.csv"] = new() { "path,label" }, ["clipart-test.csv"] = new() { "path,label" } };
        foreach (string label in Classes)
        {
            string folder = Path.Combine(library, label);
            if (!Directory.Exists(folder)) continue;
            var drawings = Directory.EnumerateFiles(folder, "*.svg", SearchOption.AllDirectories)
                .Select(f => (File: f, Name: Path.GetFileNameWithoutExtension(f)))
                .OrderBy(d => StableHash.Of(d.Name)).ThenBy(d => d.File, StringComparer.Ordinal);
            var taken = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (file, name) in drawings)
            {
                if (taken.Count == perClass) break;
                // The same name twice in a folder (subfolders) keeps the first; an unreadable drawing is passed over.
                if (taken.Contains(name) || !SvgRasterizer.TryRenderFile(file, Path.Combine(root, label, name + ".png"), side)) continue;
                rows[$"clipart-{(PreparedSet.IsTest(name) ? "test" : "train")}.csv"].Add($"{label}/{name}.png,{label}");
                taken.Add(name);
            }
        }
        if (rows["clipart-train.csv"].Count == 1) throw new InvalidDataException($"No drawings could be rendered under {library}.");
        return PreparedSet.Write(root, rows, "clipart",
            "# Open Clip Art Library 0.18 (Debian package openclipart-svg)\n\nNot redistributed with SpatialPrediction.ML. " +
            "Public domain; see /usr/share/doc/openclipart-svg/copyright in the package.\n");
    }
}
