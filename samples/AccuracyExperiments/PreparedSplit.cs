using Microsoft.ML.Data;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.ExperimentData;

namespace AccuracyExperiments;

/// <summary>
/// Which rows of a set prepared as CSVs (STEM-train.csv, STEM-test.csv) an experiment trains and evaluates on. On the
/// "test" split: the training CSV, evaluated on the test CSV. On the "validation" split: one training row in five is
/// held out — chosen by a stable hash of a key made from its file name, so every style of one picture lands on the same
/// side — and evaluated on instead; the test CSV is never read.
/// </summary>
internal sealed class PreparedSplit
{
    private readonly string folder;
    private readonly Func<string, string> keyOf;

    /// <summary>The split <paramref name="split"/> ("test" or "validation") of the CSVs in <paramref name="folder"/>.</summary>
    public PreparedSplit(string folder, string split, Func<string, string> keyOf)
    {
        this.folder = folder;
        this.keyOf = keyOf;
        IsValidation = split switch
        {
            "test" => false,
            "validation" => true,
            var other => throw new ArgumentException($"Unknown split '{other}' in the configuration: use \"test\" or \"validation\"."),
        };
    }

    /// <summary>Whether training rows are held out for evaluation.</summary>
    public bool IsValidation { get; }

    /// <summary>A training CSV: all of it (test split), or its training or its held-out part (validation split).</summary>
    public ImageDataset Part(string csv, bool heldOut)
    {
        var all = ImageDataset.FromCsv(csv);
        return IsValidation ? new ImageDataset(all.Entries.Where(e => IsHeldOut(e.Path) == heldOut).ToList()) : all;
    }

    /// <summary>The rows <paramref name="stem"/> is evaluated on: its test CSV, or the held-out part of its training CSV.</summary>
    public ImageDataset Evaluation(string stem)
        => IsValidation ? Part(Path.Combine(folder, $"{stem}-train.csv"), heldOut: true) : ImageDataset.FromCsv(Path.Combine(folder, $"{stem}-test.csv"));

    private bool IsHeldOut(string path) => StableHash.Of(keyOf(path)) % 5 == 2;

    /// <summary>Decodes <paramref name="set"/>'s pictures into <paramref name="images"/> and their class indices into <paramref name="labels"/>.</summary>
    public static void Load(ImageDataset set, IReadOnlyList<string> classes, List<MLImage> images, List<int> labels)
    {
        foreach (var entry in set.Entries)
        {
            images.Add(ImageDataset.Decode(entry.Path));
            labels.Add(LabelOf(classes, entry));
        }
    }

    /// <summary>The index of <paramref name="entry"/>'s label among <paramref name="classes"/> (the training split's).</summary>
    public static int LabelOf(IReadOnlyList<string> classes, ImageEntry entry)
    {
        int index = classes.ToList().IndexOf(entry.Label);
        return index >= 0 ? index : throw new InvalidDataException($"{entry.Path}: label '{entry.Label}' does not occur in the training split.");
    }
}
