using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace SpatialPrediction.ML.Data;

/// <summary>One drawing style of the emoji-datasource packages on the npm registry.</summary>
/// <param name="Style">Style name as the package spells it ("google", "twitter").</param>
/// <param name="Package">npm package name.</param>
/// <param name="Version">Pinned package version.</param>
/// <param name="ImageLicence">Licence of the drawings (the package code itself is MIT).</param>
public sealed record EmojiSource(string Style, string Package, string Version, string ImageLicence)
{
    /// <summary>Google's Noto Emoji drawings (Apache-2.0).</summary>
    public static EmojiSource Google { get; } = new("google", "emoji-datasource-google", "16.0.0", "Apache-2.0 (Noto Emoji, Google)");
    /// <summary>Twitter's Twemoji drawings (CC-BY 4.0).</summary>
    public static EmojiSource Twitter { get; } = new("twitter", "emoji-datasource-twitter", "16.0.0", "CC-BY 4.0 (Twemoji, Twitter, Inc and other contributors)");
}

/// <summary>
/// Prepares the emoji image sets outside the repository: fetches each package's tarball with <c>npm pack</c> (cached),
/// extracts the 64 px drawings of base emoji (skin-tone variants are separate files and are left out, so no
/// near-duplicate of an emoji can sit on the other side of a split), and writes <c>path,label</c> CSVs for the 9
/// categories and the subcategories, split into train and test by the emoji itself, identically in every style.
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

    /// <summary>Prepares an already downloaded package tarball; returns the CSV files written.</summary>
    public static IReadOnlyList<string> PrepareFromTarball(EmojiSource source, string tarball, string outputFolder)
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
            .Select(e => (Image: e.GetProperty("image").GetString()!, Unified: e.GetProperty("unified").GetString()!,
                Category: e.GetProperty("category").GetString()!, Subcategory: e.GetProperty("subcategory").GetString()!))
            .Where(r => r.Category != "Component" && images.Contains(r.Image))
            .OrderBy(r => r.Image, StringComparer.Ordinal)
            .ToList();
        var written = new List<string>();
        foreach (var (task, label) in new (string, Func<(string Image, string Unified, string Category, string Subcategory), string>)[]
                 { ("category", r => r.Category), ("subcategory", r => r.Subcategory) })
        foreach (var split in new[] { "train", "test" })
        {
            string csv = Path.Combine(outputFolder, $"{source.Style}-{task}-{split}.csv");
            var lines = new List<string> { "path,label" };
            lines.AddRange(rows.Where(r => SplitOf(r.Unified) == split).Select(r => $"{source.Style}/{r.Image},\"{label(r)}\""));
            File.WriteAllLines(csv, lines);
            written.Add(csv);
        }
        File.WriteAllText(Path.Combine(outputFolder, $"ATTRIBUTION-{source.Style}.md"),
            $"# {source.Package} {source.Version}\n\nImages: {source.ImageLicence}. Package and metadata: MIT (Cal Henderson, emoji-data).\n" +
            $"Fetched from the npm registry by SpatialPrediction.ML's data preparation; not redistributed with the project.\n" +
            $"{rows.Count} base emoji (skin-tone variants and the 'Component' category left out), split 1 in {TestOneIn} to test by code points.\n");
        return written;
    }

    /// <summary>"test" for one emoji in <see cref="TestOneIn"/>, chosen by a stable hash of its code points, else "train".</summary>
    public static string SplitOf(string unified)
    {
        uint hash = 2166136261;
        foreach (char c in unified) hash = (hash ^ c) * 16777619;
        return hash % TestOneIn == 0 ? "test" : "train";
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
