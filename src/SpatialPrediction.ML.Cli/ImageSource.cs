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
}
