using System.CommandLine;
using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.Cli;

/// <summary>The <c>--data</c> of a command: a folder with one sub-folder per class, or a CSV of <c>path,label</c>.</summary>
internal static class ImageSource
{
    public static ImageDataset Open(string path)
    {
        if (Directory.Exists(path)) return ImageDataset.FromFolder(path);
        if (File.Exists(path))
            return path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)
                ? ImageDataset.FromCsv(path)
                : throw new UsageException($"{path}: expected a folder of class sub-folders or a .csv file of path,label rows.");
        throw new UsageException($"{path}: no such folder or CSV file.");
    }

    /// <summary>
    /// The images of <paramref name="path"/> that decode. Every file is decoded once first: unreadable ones are listed
    /// and left out when <paramref name="skipUnreadable"/>, otherwise all of them are named in one error.
    /// </summary>
    public static ImageDataset OpenReadable(string path, bool skipUnreadable, TextWriter output)
    {
        var dataset = Open(path);
        var check = dataset.Check();
        if (check.Unreadable.Count == 0) return dataset;
        string list = string.Join("; ", check.Unreadable.Select(u => u.Reason));
        if (!skipUnreadable)
            throw new InvalidDataException($"{check.Unreadable.Count} unreadable image(s) in {path} (pass --skip-unreadable-images to leave them out): {list}");
        if (check.Readable.Entries.Count == 0) throw new InvalidDataException($"{path}: none of its {dataset.Entries.Count} images is readable: {list}");
        output.WriteLine($"Skipped {check.Unreadable.Count} unreadable image(s): {list}");
        return check.Readable;
    }

    /// <summary>The <c>--skip-unreadable-images</c> switch of the commands that read images.</summary>
    public static Option<bool> SkipOption() => new("--skip-unreadable-images")
    {
        Description = "Leave out (and list) images that cannot be decoded instead of failing.",
    };
}
