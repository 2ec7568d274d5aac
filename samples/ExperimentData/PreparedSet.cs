namespace SpatialPrediction.ML.ExperimentData;

/// <summary>How a prepared set lands on disk: its CSVs (<c>path,label</c> rows) and the attribution of its source.</summary>
internal static class PreparedSet
{
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
