namespace SpatialPrediction.ML.ExperimentData;

/// <summary>
/// How a prepared set lands on disk: its CSVs (<c>path,label</c> rows) and the attribution of its source; and which
/// pictures of a set that ships no split of its own are held out for testing.
/// </summary>
internal static class PreparedSet
{
    /// <summary>One picture in five is a test picture, by a stable hash of its name (the same picture in every size).</summary>
    public static bool IsTest(string name) => StableHash.Of(name) % 5 == 0;

    /// <summary>
    /// Writes each CSV of <paramref name="rows"/> (file name → lines, header first) and <paramref name="attribution"/> as
    /// ATTRIBUTION-<paramref name="name"/>.md into <paramref name="folder"/>; returns the CSVs' paths.
    /// </summary>
    public static IReadOnlyList<string> Write(string folder, IReadOnlyDictionary<string, List<string>> rows, string name, string attribution)
    {
        var written = new List<string>();
        foreach (var (file, lines) in rows)
        {
            string csv = Path.Combine(folder, file);
            File.WriteAllLines(csv, lines);
            written.Add(csv);
        }
        File.WriteAllText(Path.Combine(folder, $"ATTRIBUTION-{name}.md"), attribution);
        return written;
    }
}
