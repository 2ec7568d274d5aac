using System.Diagnostics;
using CsvHelper;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace SpatialPrediction.ML.ExperimentData;

/// <summary>One drawing style of emoji on the npm registry: an emoji-datasource package, or OpenMoji.</summary>
/// <param name="Style">Style name as the package spells it ("google", "twitter", "openmoji").</param>
/// <param name="Package">npm package name.</param>
/// <param name="Version">Pinned package version.</param>
/// <param name="ImageLicence">Licence of the drawings (the package code itself is MIT).</param>
public sealed record EmojiSource(string Style, string Package, string Version, string ImageLicence)
{
    /// <summary>Google's Noto Emoji drawings (Apache-2.0).</summary>
    public static EmojiSource Google { get; } = new("google", "emoji-datasource-google", "16.0.0", "Apache-2.0 (Noto Emoji, Google)");
    /// <summary>Twitter's Twemoji drawings (CC-BY 4.0).</summary>
    public static EmojiSource Twitter { get; } = new("twitter", "emoji-datasource-twitter", "16.0.0", "CC-BY 4.0 (Twemoji, Twitter, Inc and other contributors)");
    /// <summary>OpenMoji's drawings (CC-BY-SA 4.0), shipped as SVG and rasterised here.</summary>
    public static EmojiSource OpenMoji { get; } = new("openmoji", "openmoji", "16.0.0", "CC-BY-SA 4.0 (OpenMoji, HfG Schwäbisch Gmünd and contributors)");

    /// <summary>Every style the data preparation knows.</summary>
    public static IReadOnlyList<EmojiSource> All { get; } = new[] { Google, Twitter, OpenMoji };
}

/// <summary>
/// Prepares the emoji image sets outside the repository: fetches each package's tarball with <c>npm pack</c> (cached),
/// extracts the 64 px drawings of base emoji (emoji-datasource's PNGs; OpenMoji's SVGs rendered by
/// <see cref="SvgRasterizer"/>), leaving skin-tone variants out so no near-duplicate of an emoji can sit on the other
/// side of a split, and writes <c>path,label</c> CSVs for the 9 categories and the subcategories, split into train and
/// test by the emoji's code points, identically in every style.
/// </summary>
public static class EmojiDataPreparation
{
    /// <summary>Share of emoji that go to the test split (by a stable hash of the emoji's code points).</summary>
    public const int TestOneIn = 5;

    /// <summary>Fetches (or reuses) the package tarball in <paramref name="cacheFolder"/> and prepares it into <paramref name="outputFolder"/>.</summary>
    public static IReadOnlyList<string> Prepare(EmojiSource source, string cacheFolder, string outputFolder)
    {
        Directory.CreateDirectory(cacheFolder);
        string tarball = Path.Combine(cacheFolder, $"{source.Package}-{source.Version}.tgz");
        if (!File.Exists(tarball)) Fetch(source, cacheFolder, tarball);
        return PrepareFromTarball(source, tarball, outputFolder);
    }

    /// <summary>Side of the prepared images in pixels (emoji-datasource ships 64 px PNGs; OpenMoji is rendered at it).</summary>
    public const int ImageSize = 64;

    /// <summary>Prepares an already downloaded package tarball; returns the CSV files written.</summary>
    public static IReadOnlyList<string> PrepareFromTarball(EmojiSource source, string tarball, string outputFolder)
        => source.Package == EmojiSource.OpenMoji.Package
            ? PrepareOpenMoji(source, tarball, outputFolder)
            : PrepareDatasource(source, tarball, outputFolder);

    private static IReadOnlyList<string> PrepareDatasource(EmojiSource source, string tarball, string outputFolder)
    {
        string imageFolder = Path.Combine(outputFolder, source.Style);
        Directory.CreateDirectory(imageFolder);
        JsonElement[]? emoji = null;
        string prefix = $"package/img/{source.Style}/64/";
        var images = new HashSet<string>(StringComparer.Ordinal);
        using (var file = File.OpenRead(tarball))
        using (var gzip = new GZipStream(file, CompressionMode.Decompress))
        using (var tar = new TarReader(gzip))
        {
            for (var entry = tar.GetNextEntry(); entry is not null; entry = tar.GetNextEntry())
            {
                if (entry.DataStream is null) continue;
                if (entry.Name == "package/emoji.json")
                {
                    using var json = JsonDocument.Parse(entry.DataStream);
                    emoji = json.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
                }
                else if (entry.Name.StartsWith(prefix, StringComparison.Ordinal) && entry.Name.EndsWith(".png", StringComparison.Ordinal))
                {
                    string name = entry.Name[prefix.Length..];
                    if (name.Contains('/') || name.Contains("..")) continue; // never write outside the target folder
                    using var output = File.Create(Path.Combine(imageFolder, name));
                    entry.DataStream.CopyTo(output);
                    images.Add(name);
                }
            }
        }
        if (emoji is null) throw new InvalidDataException($"{tarball}: no package/emoji.json inside; is this an emoji-datasource package?");

        var rows = emoji
            .Where(e => e.TryGetProperty($"has_img_{source.Style}", out var has) && has.GetBoolean())
            .Select(e => new EmojiRow(e.GetProperty("image").GetString()!, e.GetProperty("unified").GetString()!,
                e.GetProperty("category").GetString()!, e.GetProperty("subcategory").GetString()!))
            .Where(r => r.Category != "Component" && images.Contains(r.Image))
            .ToList();
        return WriteSplits(source, rows, outputFolder, "Package and metadata: MIT (Cal Henderson, emoji-data).",
            "skin-tone variants and the 'Component' category left out");
    }

    /// <summary>
    /// OpenMoji: metadata from <c>data/openmoji.csv</c> (group and subgroup slugs, mapped onto emoji-datasource's category
    /// names so labels agree across styles), drawings from <c>color/svg</c>. Skin-tone variants, components and OpenMoji's
    /// own extras (which the other styles do not draw) are left out.
    /// </summary>
    private static IReadOnlyList<string> PrepareOpenMoji(EmojiSource source, string tarball, string outputFolder)
    {
        string imageFolder = Path.Combine(outputFolder, source.Style);
        Directory.CreateDirectory(imageFolder);
        string? metadata = null;
        var svgs = new Dictionary<string, string>(StringComparer.Ordinal);
        const string prefix = "package/color/svg/";
        using (var file = File.OpenRead(tarball))
        using (var gzip = new GZipStream(file, CompressionMode.Decompress))
        using (var tar = new TarReader(gzip))
        {
            for (var entry = tar.GetNextEntry(); entry is not null; entry = tar.GetNextEntry())
            {
                if (entry.DataStream is null) continue;
                if (entry.Name == "package/data/openmoji.csv") metadata = new StreamReader(entry.DataStream).ReadToEnd();
                else if (entry.Name.StartsWith(prefix, StringComparison.Ordinal) && entry.Name.EndsWith(".svg", StringComparison.Ordinal))
                    svgs[entry.Name[prefix.Length..^4]] = new StreamReader(entry.DataStream).ReadToEnd();
            }
        }
        if (metadata is null) throw new InvalidDataException($"{tarball}: no package/data/openmoji.csv inside; is this the openmoji package?");

        var lines = ReadCsv(metadata);
        var header = lines[0];
        int Column(string name) => Array.IndexOf(header, name) is var i and >= 0
            ? i : throw new InvalidDataException($"{tarball}: data/openmoji.csv has no '{name}' column (columns: {string.Join(", ", header)}).");
        int hexcode = Column("hexcode"), group = Column("group"), subgroup = Column("subgroups"), skintone = Column("skintone");
        var rows = new List<EmojiRow>();
        var skipped = new List<string>();
        foreach (var record in lines.Skip(1))
        {
            if (record.Length != header.Length) throw new InvalidDataException($"{tarball}: a row of data/openmoji.csv has {record.Length} fields, expected {header.Length}.");
            string code = record[hexcode];
            if (record[skintone].Length > 0 || record[group] is "component" or "extras-openmoji" or "extras-unicode") continue;
            if (!svgs.TryGetValue(code, out var svg) || code.Contains('/') || code.Contains("..")) continue;
            string image = code.ToLowerInvariant() + ".png";
            try
            {
                File.WriteAllBytes(Path.Combine(imageFolder, image), SvgRasterizer.RenderPng(svg, ImageSize, $"{source.Package}/color/svg/{code}.svg"));
            }
            catch (Exception e) when (e is NotSupportedException or InvalidDataException)
            {
                skipped.Add(e.Message);
                continue;
            }
            rows.Add(new EmojiRow(image, code, CategoryName(record[group]), record[subgroup]));
        }
        if (skipped.Count > 0) File.WriteAllLines(Path.Combine(outputFolder, $"SKIPPED-{source.Style}.txt"), skipped);
        return WriteSplits(source, rows, outputFolder, "Metadata: CC-BY-SA 4.0 (OpenMoji). Drawings rendered from SVG at " +
            $"{ImageSize} px with Svg.Skia ({skipped.Count} drawings it could not draw skipped).",
            "skin-tone variants, components and OpenMoji's extras left out");
    }

    /// <summary>Every record of a CSV document, header first (RFC 4180: quoted fields, doubled quotes), blank lines left out.</summary>
    private static List<string[]> ReadCsv(string text)
    {
        using var reader = CsvReader.FromText(text, new CsvReaderOptions { Separator = ',', HasHeader = true });
        var records = new List<string[]> { reader.Headers.ToArray() };
        while (reader.Read()) records.Add(Enumerable.Range(0, reader.FieldCount).Select(reader.GetString).ToArray());
        return records;
    }

    /// <summary>"smileys-emotion" → "Smileys &amp; Emotion": emoji-datasource's spelling of the same Unicode group.</summary>
    internal static string CategoryName(string slug)
        => string.Join(" & ", slug.Split('-').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..]));

    private sealed record EmojiRow(string Image, string Unified, string Category, string Subcategory);

    private static List<string> WriteSplits(EmojiSource source, List<EmojiRow> rows, string outputFolder, string metadataLicence, string leftOut)
    {
        rows = rows.OrderBy(r => r.Image, StringComparer.Ordinal).ToList();
        var written = new List<string>();
        foreach (var (task, label) in new (string, Func<EmojiRow, string>)[] { ("category", r => r.Category), ("subcategory", r => r.Subcategory) })
        foreach (var split in new[] { "train", "test" })
        {
            string csv = Path.Combine(outputFolder, $"{source.Style}-{task}-{split}.csv");
            var lines = new List<string> { "path,label" };
            lines.AddRange(rows.Where(r => SplitOf(r.Unified) == split).Select(r => $"{source.Style}/{r.Image},\"{label(r)}\""));
            File.WriteAllLines(csv, lines);
            written.Add(csv);
        }
        File.WriteAllText(Path.Combine(outputFolder, $"ATTRIBUTION-{source.Style}.md"),
            $"# {source.Package} {source.Version}\n\nImages: {source.ImageLicence}. {metadataLicence}\n" +
            $"Fetched from the npm registry by SpatialPrediction.ML's data preparation; not redistributed with the project.\n" +
            $"{rows.Count} base emoji ({leftOut}), split 1 in {TestOneIn} to test by code points.\n");
        return written;
    }

    /// <summary>
    /// "test" for one emoji in <see cref="TestOneIn"/>, chosen by a stable hash of its code points, else "train". The
    /// variation selector U+FE0F is ignored and case folded, because styles disagree on whether to spell it (OpenMoji's
    /// "2764" is emoji-datasource's "2764-FE0F"); the same emoji must land on the same side in every style.
    /// </summary>
    public static string SplitOf(string unified)
    {
        string key = string.Join('-', unified.ToUpperInvariant().Split('-').Where(p => p != "FE0F"));
        return StableHash.Of(key) % TestOneIn == 0 ? "test" : "train";
    }

    private static void Fetch(EmojiSource source, string cacheFolder, string tarball)
    {
        var start = new ProcessStartInfo("npm", $"pack {source.Package}@{source.Version} --pack-destination \"{cacheFolder}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var npm = Process.Start(start) ?? throw new InvalidOperationException("Could not start npm; install Node.js/npm to fetch the emoji packages.");
        string error = npm.StandardError.ReadToEnd();
        npm.StandardOutput.ReadToEnd();
        npm.WaitForExit();
        if (npm.ExitCode != 0 || !File.Exists(tarball))
            throw new InvalidOperationException($"npm pack {source.Package}@{source.Version} failed (exit {npm.ExitCode}): {error.Trim()}");
    }
}
