// Prepares real image data outside the repository (never commit it). Usage:
//   dotnet run -c Release --project samples/PrepareData -- emoji|photos|fashion|icons|clipart [--out DIR]
// Default DIR: $XDG_CACHE_HOME/spatial-prediction/data (else ~/.cache/spatial-prediction/data).
using SpatialPrediction.ML.ExperimentData;

string mode = args.Length > 0 ? args[0] : "emoji";
int outIndex = Array.IndexOf(args, "--out");
string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
    ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
string root = outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : Path.Combine(cache, "spatial-prediction", "data");

switch (mode)
{
    case "emoji":
        string output = Path.Combine(root, "emoji");
        foreach (var source in EmojiSource.All)
        {
            Console.WriteLine($"{source.Package}@{source.Version} ({source.ImageLicence})...");
            foreach (var csv in EmojiDataPreparation.Prepare(source, Path.Combine(root, "npm"), output))
                Console.WriteLine($"  {csv}: {File.ReadLines(csv).Count() - 1} images");
        }
        Console.WriteLine($"Prepared under {output}. Load a split with ImageDataset.FromCsv(\"{Path.Combine(output, "google-category-train.csv")}\").");
        return 0;
    case "photos":
        string csvPath = PhotoDataPreparation.Prepare(Path.Combine(root, "apt"), root);
        Console.WriteLine($"{csvPath}: {File.ReadLines(csvPath).Count() - 1} photographs from Debian's python3-skimage and plasma-workspace-wallpapers.");
        return 0;
    case "fashion":
        var (fashionTrain, fashionTest) = FashionMnistPreparation.Prepare(Path.Combine(root, "apt"), root);
        foreach (var csv in new[] { fashionTrain, fashionTest }) Console.WriteLine($"{csv}: {File.ReadLines(csv).Count() - 1} Fashion-MNIST images (Debian's dataset-fashion-mnist).");
        return 0;
    case "icons":
        foreach (var csv in IconThemePreparation.Prepare(Path.Combine(root, "apt"), root))
            Console.WriteLine($"{csv}: {File.ReadLines(csv).Count() - 1} Papirus icons (Debian's papirus-icon-theme).");
        return 0;
    case "clipart":
        foreach (var csv in ClipArtPreparation.Prepare(Path.Combine(root, "apt"), root))
            Console.WriteLine($"{csv}: {File.ReadLines(csv).Count() - 1} Open Clip Art drawings (Debian's openclipart-svg).");
        return 0;
    default:
        Console.Error.WriteLine($"Unknown data set '{mode}'. Available: emoji, photos, fashion, icons, clipart.");
        return 2;
}
